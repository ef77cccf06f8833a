#!/usr/bin/python3
"""webhook_sign.py: independent Verifa and Standard Webhooks senders for tests.

Builds deliveries as the senders do (shared/protocols/verifa.md and
standard-webhooks.md) with the standard library only (hmac, hashlib,
base64): it must never share code with idhook, or a test would check idhook
against itself.

  verifa   X-Verifa-Signature: t=<unix>,v1=hex(HMAC-SHA256(key = whole
           secret string incl. whsec_, t "." body)); --legacy-signature
           sends the bare hex HMAC-SHA256(secret, body) instead.
  standard webhook-id / webhook-timestamp / webhook-signature (or svix-*):
           "v1," base64(HMAC-SHA256(key = base64-decoded bytes after
           whsec_, id "." timestamp "." body)).
  resign   a sender's resend: same body and id, fresh timestamp.
  env      the EVENT_* lines a payload must give (the contract's mapping).
  selftest the published Standard Webhooks vectors.

Each delivery is a directory: body (exact bytes), headers (curl -H @file
lines), meta (provider, t, type, event_id, delivery_id, sig, ...).
Nothing secret is printed.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import string
import sys
import time

ALNUM = string.ascii_lowercase + string.digits

# Personal data the tests grep for in logs (it must never appear there).
PD_FIRST = "Zofiaquintessa"
PD_LAST = "Brzeczyszczykiewicz-Ottolenghi"
PD_DOB = "1979-11-23"
PD_DOCNO = "ZK7741093Q"

VERIFA_TYPES = (
    "session.created", "session.started", "session.approved",
    "session.declined", "session.requires-review", "session.expired",
    "session.resubmission-required", "session.redacted",
    "session.retention-expired", "session.link_generated",
    "check.completed", "check.matched", "check.monitoring.new_hits",
    "check.monitoring.clear", "screening.completed",
    "identity.created", "identity.updated", "identity.archived",
    "identity.restored", "identity.tag-added", "identity.tag-removed",
    "identity.flagged",
    "case.created", "case.claimed", "case.approved", "case.rejected",
    "case.escalated",
    "document.uploaded", "document.classified", "document.extracted",
    "document.verified", "document.compared", "document.redacted",
    "consortium.match_found",
)


def rand_id(prefix, n=24):
    return prefix + "".join(secrets.choice(ALNUM) for _ in range(n))


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def extracted():
    return {"first_name": PD_FIRST, "last_name": PD_LAST,
            "date_of_birth": PD_DOB, "document_number": PD_DOCNO,
            "document_type": "passport", "issuing_country": "PL"}


# ---- Verifa example payloads (fields from verifa.md; values invented) ------

def verifa_fields(etype, sess, ref):
    """The type-specific fields; optional ones are left out on some."""
    fam, _, act = etype.partition(".")
    if fam == "session":
        d = {"session_id": sess, "external_ref": ref, "is_sandbox": False}
        st = {"created": "created", "started": "in_progress",
              "approved": "approved", "declined": "rejected",
              "requires-review": "review", "expired": "expired",
              "resubmission-required": "resubmission_required",
              "redacted": "redacted", "retention-expired": "redacted",
              "link_generated": "created"}[act]
        d["status"] = st
        if act == "created":
            del d["external_ref"]          # optional: absent
        elif act == "approved":
            d["identity_id"] = "identity_m3Kp9"
            d["result"] = {"face_match_passed": True,
                           "age_check_passed": True,
                           "extracted_data": extracted()}
        elif act == "declined":
            d["is_sandbox"] = True
            d["rejection_reason"] = "Document appears to be altered"
        elif act == "requires-review":
            d["result"] = {"face_match_passed": False,
                           "face_match_score": 0.61,
                           "risk_flags": ["low_face_match", "vpn"]}
        elif act == "resubmission-required":
            d["resubmission_reasons"] = ["blurry_document"]
        elif act == "link_generated":
            d["verification_url"] = "https://verify.example/s/" + sess
            d["expires_at"] = "2026-05-01T12:00:00Z"
        elif act in ("redacted", "retention-expired"):
            d = {"session_id": sess}      # minimal payload
        return d
    if fam == "check" or fam == "screening":
        d = {"check_id": "check_abc123", "session_id": sess,
             "external_ref": ref, "is_sandbox": False}
        if act == "completed":
            d.update({"check_type": "aml_screening", "status": "clear",
                      "hit_count": 0})
            if fam == "screening":
                d = {"screening_id": "scr_5k2", "session_id": sess,
                     "status": "hits_found", "hit_count": 2,
                     "hit_types": ["pep", "adverse_media"],
                     "hit_sources": ["pep_list", "news"],
                     "pep_classes": ["class_1", "class_4"]}
        elif act == "matched":
            d.update({"status": "matched", "max_score": 0.87,
                      "hit_types": ["pep"], "hit_sources": ["pep_list"],
                      "pep_classes": ["class_2"]})
        elif act == "monitoring.new_hits":
            d.update({"monitor_run_id": "monrun_xyz", "trigger": "scheduled",
                      "new_hit_count": 1, "total_hit_count": 3,
                      "max_new_score": 0.92,
                      "hit_sources": ["aml_screening"],
                      "hit_types": ["sanction", "pep"],
                      "providers_used": ["aml_screening"]})
        elif act == "monitoring.clear":
            d.update({"monitor_run_id": "monrun_q1", "trigger": "manual",
                      "new_hit_count": 0, "total_hit_count": 0})
        return d
    if fam == "identity":
        d = {"identity_id": "identity_m3Kp9", "external_ref": ref,
             "status": "archived" if act == "archived" else "active"}
        if act in ("tag-added", "tag-removed"):
            d["tag"] = "vip"
        elif act == "flagged":
            d["reason"] = "consortium_match"
            d["flagged_by"] = "rule_17"
        elif act == "updated":
            d["updated_fields"] = ["address", "phone"]
        return d
    if fam == "case":
        d = {"case_id": "case_abc123", "session_id": "session_def456",
             "external_ref": None, "status": act, "decision": "",
             "is_sandbox": False}
        if act == "claimed":
            d["assigned_to"] = "reviewer_42"
        elif act in ("approved", "rejected"):
            d["decision"] = act
            d["external_ref"] = ref
        return d
    if fam == "document":
        d = {"document_id": "doc_abc123", "session_id": sess}
        if act == "classified":
            d["classification"] = {"document_type": "id_card",
                                   "country": "DE", "confidence": 0.98}
        elif act == "extracted":
            d["extracted_data"] = extracted()
        elif act == "verified":
            d["is_authentic"] = True
            d["checks_passed"] = ["mrz", "hologram"]
        elif act == "compared":
            d = {"document_id": "doc_abc123",
                 "reference_document_id": "doc_xyz789", "is_match": True,
                 "overall_score": 0.94}
        return d
    # consortium.match_found and anything else
    return {"session_id": sess, "external_ref": ref, "match_count": 2,
            "matched_org_count": 1, "risk_level": "high"}


def verifa_example(etype, idk=None):
    obj = {"event": etype,
           "idempotency_key": idk or rand_id("idk_", 16)}
    obj.update(verifa_fields(etype, rand_id("session_", 8),
                             rand_id("user_", 6)))
    return obj


def inflect(obj, style):
    """Rename keys (recursively) as Verifa's key-inflection setting does."""
    if isinstance(obj, list):
        return [inflect(v, style) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for k, v in obj.items():
        if style == "camel":
            p = k.split("_")
            k = p[0] + "".join(w[:1].upper() + w[1:] for w in p[1:])
        elif style == "kebab":
            k = k.replace("_", "-")
        out[k] = inflect(v, style)
    return out


def legacy_envelope(obj):
    data = {k: v for k, v in obj.items()
            if k not in ("event", "idempotency_key")}
    return {"event": obj["event"], "data": data, "created_at": now_iso()}


# ---- Standard Webhooks ----------------------------------------------------

def standard_example(etype):
    return {"type": etype, "timestamp": now_iso(),
            "data": {"invoice_id": rand_id("in_", 12),
                     "amount_due": 1250, "currency": "eur", "paid": True,
                     "customer": {"id": "cus_9Xq", "email": "c@example.org"},
                     "lines": [{"price": "1.50", "qty": 2},
                               {"price": "9.50", "qty": 1}]}}


def std_key(secret):
    """HMAC key: the base64-decoded bytes after whsec_ (padding optional)."""
    s = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)


def std_sign(secret, msg_id, t, body):
    msg = msg_id.encode() + b"." + str(t).encode() + b"." + body
    mac = hmac.new(std_key(secret), msg, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def verifa_mac(secret, msg):
    return hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).digest()


# ---- files ----------------------------------------------------------------

def read_secrets(path):
    out = []
    for line in open(path, encoding="utf-8").read().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def pick_secret(args):
    if args.secret is not None:
        return args.secret
    if args.secret_file is None:
        raise SystemExit("webhook_sign: give --secret-file or --secret")
    lst = read_secrets(args.secret_file)
    if args.secret_index >= len(lst):
        raise SystemExit("webhook_sign: --secret-index out of range")
    return lst[args.secret_index]


def read_meta(d):
    meta = {}
    p = os.path.join(d, "meta")
    if os.path.exists(p):
        for line in open(p, encoding="utf-8").read().splitlines():
            k, _, v = line.partition("=")
            meta[k] = v
    return meta


def write_delivery(out, body, headers, meta):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "body"), "wb") as f:
        f.write(body)
    with open(os.path.join(out, "headers"), "w", encoding="utf-8") as f:
        f.write("".join("%s: %s\n" % hv for hv in headers))
    with open(os.path.join(out, "meta"), "w", encoding="utf-8") as f:
        for k in sorted(meta):
            f.write("%s=%s\n" % (k, meta[k]))


def load_payload(args, build):
    if args.payload:
        return open(args.payload, "rb").read()
    return compact(build()).encode("utf-8")


def pick_t(args):
    if getattr(args, "t", None) is not None:
        return args.t
    return str(int(time.time()) + args.t_offset)


# ---- verifa ---------------------------------------------------------------

def verifa_event_id(body, delivery_id):
    """The contract's choice: idempotency key, else header, else hash."""
    try:
        obj = json.loads(body)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        for o in (obj, obj.get("data")):
            if not isinstance(o, dict):
                continue
            for k in ("idempotency_key", "idempotencyKey",
                      "idempotency-key"):
                if isinstance(o.get(k), str):
                    return o[k]
    if delivery_id:
        return delivery_id
    return "sha256:" + hashlib.sha256(body).hexdigest()


def verifa_sig(secret, t, body, legacy, encoding):
    if legacy:
        mac = verifa_mac(secret, body)
        return mac.hex() if encoding == "hex" else \
            base64.b64encode(mac).decode()
    mac = verifa_mac(secret, t.encode() + b"." + body)
    v1 = mac.hex() if encoding == "hex" else base64.b64encode(mac).decode()
    return "t=%s,v1=%s" % (t, v1)


def verifa_write(out, body, secret, t, meta):
    legacy = meta.get("legacy_signature") == "1"
    sig = verifa_sig(secret, t, body, legacy, meta.get("encoding", "hex"))
    hdrs = [("Content-Type", "application/json"),
            ("X-Verifa-Signature", sig)]
    if meta.get("delivery_id"):
        hdrs.append(("X-Verifa-Delivery-Id", meta["delivery_id"]))
    meta = dict(meta, t="" if legacy else t, sig=sig)
    write_delivery(out, body, hdrs, meta)


def cmd_verifa(args):
    def build():
        obj = verifa_example(args.type, args.idempotency_key)
        if args.legacy_envelope:
            obj = legacy_envelope(obj)
            if args.keep_key:
                obj["data"]["idempotency_key"] = rand_id("idk_", 16)
        return inflect(obj, args.inflect)
    body = load_payload(args, build)
    did = "" if args.no_delivery_id else \
        (args.delivery_id or rand_id("dlv_", 20))
    meta = {"provider": "verifa", "type": args.type, "delivery_id": did,
            "event_id": verifa_event_id(body, did),
            "legacy_signature": "1" if args.legacy_signature else "0",
            "encoding": args.encoding}
    verifa_write(args.out, body, pick_secret(args), pick_t(args), meta)
    return 0


# ---- standard -------------------------------------------------------------

def standard_write(out, body, secret, t, meta):
    sig = std_sign(secret, meta["event_id"], t, body)
    if meta.get("sig_prefix"):
        sig = meta["sig_prefix"] + " " + sig
    p = "svix" if meta.get("svix") == "1" else "webhook"
    hdrs = [("Content-Type", "application/json"),
            (p + "-id", meta["event_id"]),
            (p + "-timestamp", t),
            (p + "-signature", sig)]
    write_delivery(out, body, hdrs, dict(meta, t=t, sig=sig))


def cmd_standard(args):
    body = load_payload(args, lambda: standard_example(args.type))
    mid = args.msg_id or rand_id("msg_", 27)
    meta = {"provider": "standard", "type": args.type, "event_id": mid,
            "delivery_id": mid, "svix": "1" if args.svix else "0",
            "sig_prefix": args.sig_prefix or ""}
    standard_write(args.out, body, pick_secret(args), pick_t(args), meta)
    return 0


# ---- resign, alter, env ------------------------------------------------------

def cmd_resign(args):
    """A resend: same body, same ids, fresh timestamp (and signature)."""
    body = open(os.path.join(args.dir, "body"), "rb").read()
    meta = read_meta(args.dir)
    if args.out != args.dir:
        os.makedirs(args.out, exist_ok=True)
    if meta.get("provider") == "verifa":
        verifa_write(args.out, body, pick_secret(args), pick_t(args), meta)
    elif meta.get("provider") == "standard":
        standard_write(args.out, body, pick_secret(args), pick_t(args), meta)
    else:
        raise SystemExit("webhook_sign: %s: no provider in meta" % args.dir)
    return 0


def cmd_alter(args):
    """Copy a delivery and change one letter of its body (JSON stays valid:
    the change must be caught by the signature, not by the parser)."""
    os.makedirs(args.out, exist_ok=True)
    for n in ("headers", "meta"):
        shutil.copyfile(os.path.join(args.dir, n), os.path.join(args.out, n))
    body = open(os.path.join(args.dir, "body"), "rb").read()
    m = list(re.finditer(rb'"[a-z_]+":"([A-Za-z0-9_]+)"', body))
    if not m:
        raise SystemExit("webhook_sign alter: no string value to change")
    pos = m[len(m) // 2].end(1) - 1
    b = bytearray(body)
    b[pos] = ord("x") if b[pos] != ord("x") else ord("y")
    with open(os.path.join(args.out, "body"), "wb") as f:
        f.write(bytes(b))
    return 0


def flatten(v, name, out):
    """behaviour.md: keys joined by _, uppercased, non [A-Z0-9] -> _;
    arrays _0.. and _LEN; numbers as written; true/false; null empty."""
    if isinstance(v, dict):
        for k, x in v.items():
            flatten(x, name + "_" + re.sub("[^A-Z0-9]", "_", k.upper()), out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            flatten(x, "%s_%d" % (name, i), out)
        out.append("%s_LEN=%d" % (name, len(v)))
    elif v is None:
        out.append(name + "=")
    elif v is True or v is False:
        out.append("%s=%s" % (name, "true" if v else "false"))
    else:
        out.append("%s=%s" % (name, v))


def cmd_env(args):
    """The EVENT_* lines a payload must give, sorted (as `env | sort`)."""
    raw = open(args.payload, "rb").read().decode("utf-8")
    obj = json.loads(raw, parse_float=lambda s: s, parse_int=lambda s: s)
    out = []
    flatten(obj, "EVENT", out)
    sys.stdout.write("".join(sorted(x + "\n" for x in out)))
    return 0


def cmd_example(args):
    if args.provider == "verifa":
        obj = verifa_example(args.type)
    else:
        obj = standard_example(args.type)
    sys.stdout.write(compact(obj) + "\n")
    return 0


# ---- selftest -----------------------------------------------------------------

STD_VECTORS = (
    ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
     "1614265330", b'{"test": 2432232314}',
     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
    ("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
     "1649367553", b'{"email":"test@example.com","username":"test_user"}',
     "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="),
)


def std_verify(secret, msg_id, t, body, header):
    """A receiver's check of a signature list (spec: any v1 matches)."""
    want = std_sign(secret, msg_id, t, body)
    return any(hmac.compare_digest(e, want) for e in header.split(" ")
               if e.startswith("v1,"))


def cmd_selftest(args):
    for sec, mid, t, body, sig in STD_VECTORS:
        assert std_sign(sec, mid, t, body) == sig, mid
        assert std_verify(sec, mid, t, body, sig)
    sec, mid, t, body, _ = STD_VECTORS[0]
    assert not std_verify(sec, mid, t, body,
                          "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=")
    assert std_verify(sec, mid, t, body,
                      "v2,abc v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
                      " v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    assert not std_verify(sec, mid, str(int(t) + 1), body, STD_VECTORS[0][4])
    # Padding is optional: the unpadded form of a secret is the same key.
    k = "whsec_" + base64.b64encode(b"k" * 32).decode()
    assert k.endswith("=") and std_key(k) == std_key(k.rstrip("="))
    # Verifa: hex over t "." body with the whole secret (as Kayle).
    assert verifa_sig("whsec_test_secret", "1742404800",
                      b"encrypted-payload", False, "hex") == \
        "t=1742404800,v1=4e4a7ec092b53b027f0b504e4f1c0383" \
        "af4dc960d2a869d9961d50586f46105b"
    for e in VERIFA_TYPES:
        obj = verifa_example(e)
        assert obj["event"] == e and obj["idempotency_key"].startswith("idk_")
    sys.stdout.write("selftest ok\n")
    return 0


# ---- arguments ------------------------------------------------------------------

def add_common(p):
    p.add_argument("--secret-file")
    p.add_argument("--secret", help="the secret itself (tests only)")
    p.add_argument("--secret-index", type=int, default=0)
    p.add_argument("--t", help="exact timestamp text, as sent")
    p.add_argument("--t-offset", type=int, default=0,
                   help="seconds added to now, e.g. -400 for a stale t")
    p.add_argument("--out", required=True)


def parser():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("verifa")
    add_common(p)
    p.add_argument("--type", default="session.approved")
    p.add_argument("--payload", help="body file instead of the example")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--camel", dest="inflect", action="store_const",
                   const="camel")
    g.add_argument("--kebab", dest="inflect", action="store_const",
                   const="kebab")
    p.set_defaults(inflect="snake")
    p.add_argument("--legacy-envelope", action="store_true")
    p.add_argument("--keep-key", action="store_true",
                   help="legacy envelope with data.idempotency_key")
    p.add_argument("--legacy-signature", action="store_true",
                   help="bare hex HMAC-SHA256(secret, body), no t")
    p.add_argument("--encoding", choices=("hex", "base64"), default="hex",
                   help="v1 encoding (base64 is wrong: a forgery test)")
    p.add_argument("--idempotency-key")
    p.add_argument("--delivery-id")
    p.add_argument("--no-delivery-id", action="store_true")
    p.set_defaults(fn=cmd_verifa)

    p = sub.add_parser("standard")
    add_common(p)
    p.add_argument("--type", default="invoice.paid")
    p.add_argument("--payload", help="body file instead of the example")
    p.add_argument("--svix", action="store_true", help="svix-* header names")
    p.add_argument("--msg-id")
    p.add_argument("--sig-prefix",
                   help="entries put before the valid one (decoys)")
    p.set_defaults(fn=cmd_standard)

    p = sub.add_parser("resign")
    add_common(p)
    p.add_argument("--dir", required=True)
    p.set_defaults(fn=cmd_resign)

    p = sub.add_parser("alter")
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_alter)

    p = sub.add_parser("env")
    p.add_argument("--payload", required=True)
    p.set_defaults(fn=cmd_env)

    p = sub.add_parser("example")
    p.add_argument("provider", choices=("verifa", "standard"))
    p.add_argument("--type", default="session.approved")
    p.set_defaults(fn=cmd_example)

    p = sub.add_parser("selftest")
    p.set_defaults(fn=cmd_selftest)
    return ap


def main(argv=None):
    args = parser().parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
