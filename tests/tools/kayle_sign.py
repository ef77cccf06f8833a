#!/usr/bin/python3
"""kayle_sign.py: an independent Kayle ID webhook sender for idhook's tests.

Builds deliveries exactly as the sender does (protocols/kayle.md): a compact
JWE (RSA-OAEP-256 + A256GCM, RFC 7516 section 7.1, RFC 7518 sections 4.3
and 5.3) over the JSON payload, and X-Kayle-Signature
t=<unix>,v1=hex(HMAC-SHA256(key = whole secret incl. whsec_, t "." body)).
Only `cryptography` primitives and the standard library are used: it must
never share code with idhook, or a test would check idhook against itself.

Subcommands (all write files; nothing secret is printed):
  keygen   RSA test key pair: private PEM (0600), public JWK, private JWK
  sign     one delivery into DIR: body (exact bytes), headers (curl -H @file
           lines), plaintext.json, and meta (t, v1, event id, delivery id)
  resign   a sender's resend: same body, same delivery id, fresh t and v1
  alter    copy a delivery and change one byte of its body (keeps headers)
  example  print a built-in example payload
  verify   receiver-side check of a delivery (signature, then decryption)
  selftest check this file against the committed sender vectors
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import string
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

EVENT_TYPES = (
    "verification.session.succeeded",
    "verification.session.failed",
    "verification.session.expired",
    "verification.session.cancelled",
    "verification.attempt.succeeded",
    "verification.attempt.failed",
)
ALNUM = string.ascii_lowercase + string.digits
B64URL = string.ascii_letters + string.digits + "-_"
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                    algorithm=hashes.SHA256(), label=None)

# Claim values the tests grep for in logs (they must never appear there).
CLAIM_GIVEN = "Annelise Zoeta"
CLAIM_FAMILY = "Quibblesworth-Varga"
CLAIM_DOB = "1987-03-14"
CLAIM_DOCNO = "X4RTBZ9Q7"


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64u(text):
    if isinstance(text, bytes):
        text = text.decode("ascii")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rand_id(prefix):
    return prefix + "".join(secrets.choice(ALNUM) for _ in range(64))


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---- keys -----------------------------------------------------------------

def int_b64u(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def b64u_int(text):
    return int.from_bytes(unb64u(text), "big")


def public_jwk(pub, kid):
    nums = pub.public_numbers()
    jwk = {"kty": "RSA", "n": int_b64u(nums.n), "e": int_b64u(nums.e),
           "alg": "RSA-OAEP-256", "use": "enc", "key_ops": ["encrypt"]}
    if kid:
        jwk["kid"] = kid
    return jwk


def private_jwk(key, kid):
    p = key.private_numbers()
    jwk = {"kty": "RSA", "n": int_b64u(p.public_numbers.n),
           "e": int_b64u(p.public_numbers.e), "d": int_b64u(p.d),
           "p": int_b64u(p.p), "q": int_b64u(p.q), "dp": int_b64u(p.dmp1),
           "dq": int_b64u(p.dmq1), "qi": int_b64u(p.iqmp),
           "alg": "RSA-OAEP-256", "use": "enc"}
    if kid:
        jwk["kid"] = kid
    return jwk


def write_private(path, data):
    """Create a key file 0600 from the start (no window with wider modes)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def load_public(path):
    """Public key from a public JWK, a private JWK, or a PEM (either kind)."""
    raw = open(path, "rb").read()
    if raw.lstrip().startswith(b"{"):
        jwk = json.loads(raw)
        if jwk.get("kty") != "RSA":
            raise SystemExit("kayle_sign: %s: not an RSA JWK" % path)
        return rsa.RSAPublicNumbers(b64u_int(jwk["e"]),
                                    b64u_int(jwk["n"])).public_key()
    if b"PRIVATE KEY" in raw:
        return serialization.load_pem_private_key(raw, None).public_key()
    return serialization.load_pem_public_key(raw)


def load_private(path):
    raw = open(path, "rb").read()
    if raw.lstrip().startswith(b"{"):
        j = json.loads(raw)
        pub = rsa.RSAPublicNumbers(b64u_int(j["e"]), b64u_int(j["n"]))
        return rsa.RSAPrivateNumbers(
            b64u_int(j["p"]), b64u_int(j["q"]), b64u_int(j["d"]),
            b64u_int(j["dp"]), b64u_int(j["dq"]), b64u_int(j["qi"]),
            pub).private_key()
    return serialization.load_pem_private_key(raw, None)


def read_secrets(path):
    """Same file format idhook reads: one per line, blank and # ignored."""
    out = []
    for line in open(path, encoding="utf-8").read().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    if not out:
        raise SystemExit("kayle_sign: %s: no secret in file" % path)
    return out


# ---- payloads ---------------------------------------------------------------

def fake_jpeg(nbytes):
    body = os.urandom(max(nbytes - 6, 0))
    return b"\xff\xd8\xff\xe0" + body + b"\xff\xd9"


def example(etype, event_id=None, photo_kib=None):
    """A realistic payload for each event type (protocols/kayle.md)."""
    meta = {"contract_version": 1,
            "event_id": event_id or rand_id("evt_live_"),
            "verification_session_id": rand_id("vs_live_")}
    if etype.startswith("verification.attempt."):
        meta["verification_attempt_id"] = rand_id("va_live_")
    kind = etype.rsplit(".", 1)[-1]
    if kind == "succeeded":
        nbytes = 1536 if photo_kib is None else photo_kib * 1024
        claims = {
            "given_names": CLAIM_GIVEN,
            "family_name": CLAIM_FAMILY,
            "date_of_birth": CLAIM_DOB,
            "document_expiry_date": "2031-08-30",
            "document_number": CLAIM_DOCNO,
            "document_type_code": "P",
            "issuing_country_code": "NLD",
            "nationality_code": "NLD",
            "sex_marker": "F",
            "mrz_optional_data": None,          # declined by the user
            "kayle_document_id": rand_id("kdoc_"),
            "kayle_human_id": rand_id("khum_"),
            "age_over_18": True,
            "age_over_21": True,
            "age_over_65": False,
            "document_photo": {
                "dataBase64": base64.b64encode(fake_jpeg(nbytes)).decode(),
                "format": "jpeg", "height": 640, "width": 480},
        }
        data = {"claims": claims,
                "selected_field_keys": ["given_names", "family_name",
                                        "date_of_birth", "age_over_18",
                                        "document_photo"]}
    elif kind == "failed":
        data = {"failure_code": "selfie_face_mismatch",
                "nfc_tries_used": 1, "liveness_tries_used": 3}
    elif kind == "expired":
        data = {}
    elif kind == "cancelled":
        data = {"outcome": "not_verified",
                "reason": "cancelled_after_failed_check",
                "nfc_tries_used": 0, "liveness_tries_used": 2}
    else:
        data = {}
    return {"type": etype, "metadata": meta, "data": data}


# ---- the sender's two operations ----------------------------------------------

def jwe_encrypt(plaintext, pub, kid):
    """Compact JWE exactly as the sender makes it (RFC 7516 section 5.1)."""
    hdr = {"alg": "RSA-OAEP-256", "enc": "A256GCM"}
    if kid:
        hdr["kid"] = kid
    protected = b64u(compact(hdr).encode())
    cek = os.urandom(32)
    iv = os.urandom(12)
    ek = pub.encrypt(cek, OAEP)
    sealed = AESGCM(cek).encrypt(iv, plaintext, protected.encode("ascii"))
    ct, tag = sealed[:-16], sealed[-16:]
    return ".".join([protected, b64u(ek), b64u(iv), b64u(ct), b64u(tag)])


def sign(secret, t, body):
    msg = str(t).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).hexdigest()


def sig_header(secret, t, body):
    return "t=%s,v1=%s" % (t, sign(secret, t, body))


# ---- delivery directories -----------------------------------------------------

def write_delivery(out, body, sighdr, etype, delivery_id, plaintext=None):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "body"), "wb") as f:
        f.write(body)
    lines = ["Content-Type: application/jose"]
    if sighdr is not None:
        lines.append("X-Kayle-Signature: " + sighdr)
    if etype:
        lines.append("X-Kayle-Event: " + etype)
    if delivery_id:
        lines.append("X-Kayle-Delivery-Id: " + delivery_id)
    with open(os.path.join(out, "headers"), "w") as f:
        f.write("\n".join(lines) + "\n")
    if plaintext is not None:
        with open(os.path.join(out, "plaintext.json"), "wb") as f:
            f.write(plaintext)
    meta = {"sig": sighdr or "", "type": etype or "",
            "delivery_id": delivery_id or ""}
    if plaintext is not None:
        try:
            md = json.loads(plaintext).get("metadata", {})
            meta["event_id"] = md.get("event_id", "")
        except (ValueError, AttributeError):
            meta["event_id"] = ""
    old = os.path.join(out, "meta")
    if plaintext is None and os.path.exists(old):
        meta["event_id"] = read_meta(out).get("event_id", "")
    with open(old, "w") as f:
        for k in sorted(meta):
            f.write("%s=%s\n" % (k, meta[k]))


def read_meta(d):
    meta = {}
    path = os.path.join(d, "meta")
    if os.path.exists(path):
        for line in open(path).read().splitlines():
            k, _, v = line.partition("=")
            meta[k] = v
    return meta


def pick_t(args):
    if args.t is not None:
        return args.t
    return str(int(time.time()) + args.t_offset)


def pick_secret(args):
    if args.secret is not None:
        return args.secret
    if args.secret_file is None:
        raise SystemExit("kayle_sign: give --secret-file or --secret")
    lst = read_secrets(args.secret_file)
    if args.secret_index >= len(lst):
        raise SystemExit("kayle_sign: --secret-index out of range")
    return lst[args.secret_index]


def build(etype, pubkey, kid, secret, t, event_id=None, payload=None,
          photo_kib=None, delivery_id=None, sign_body=None):
    """Everything for one delivery; returns (body, sighdr, plaintext, did)."""
    if payload is None:
        obj = example(etype, event_id, photo_kib)
        plaintext = compact(obj).encode("utf-8")
    else:
        plaintext = payload
    body = jwe_encrypt(plaintext, pubkey, kid).encode("ascii")
    did = delivery_id or rand_id("whd_live_")
    sighdr = sig_header(secret, t, body if sign_body is None else sign_body)
    return body, sighdr, plaintext, did


def cmd_sign(args):
    payload = None
    if args.payload:
        payload = open(args.payload, "rb").read()
    override = None
    if args.sign_body_override:
        override = open(args.sign_body_override, "rb").read()
    kid = None if args.no_kid else args.kid
    body, sighdr, plaintext, did = build(
        args.type, load_public(args.pubkey), kid, pick_secret(args),
        pick_t(args), args.event_id, payload, args.photo_kib,
        args.delivery_id, override)
    if args.no_signature:
        sighdr = None
    write_delivery(args.out, body, sighdr, args.type, did, plaintext)
    return 0


def cmd_resign(args):
    """A resend: the JWE is made once and resent unchanged (kayle.md)."""
    if args.out != args.dir:
        copy_delivery(args.dir, args.out)
    body = open(os.path.join(args.out, "body"), "rb").read()
    meta = read_meta(args.dir)
    sighdr = sig_header(pick_secret(args), pick_t(args), body)
    write_delivery(args.out, body, sighdr, meta.get("type"),
                   meta.get("delivery_id"))
    return 0


def copy_delivery(src, dst):
    os.makedirs(dst, exist_ok=True)
    for name in ("body", "headers", "plaintext.json", "meta"):
        p = os.path.join(src, name)
        if os.path.exists(p):
            shutil.copyfile(p, os.path.join(dst, name))


def cmd_alter(args):
    copy_delivery(args.dir, args.out)
    path = os.path.join(args.out, "body")
    body = bytearray(open(path, "rb").read())
    off = len(body) // 2 if args.offset is None else args.offset
    old = chr(body[off])
    # Stay inside the base64url alphabet: the change must be caught by the
    # signature, not by a trivial syntax check.
    new = B64URL[(B64URL.index(old) + 1) % len(B64URL)] if old in B64URL \
        else "A"
    body[off] = ord(new)
    with open(path, "wb") as f:
        f.write(bytes(body))
    return 0


def cmd_example(args):
    obj = example(args.type, args.event_id, args.photo_kib)
    sys.stdout.write(compact(obj) + "\n")
    return 0


def cmd_keygen(args):
    key = rsa.generate_private_key(public_exponent=65537, key_size=args.bits)
    if args.private:
        write_private(args.private, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    if args.private_jwk:
        write_private(args.private_jwk,
                      (json.dumps(private_jwk(key, args.kid)) + "\n").encode())
    if args.public_jwk:
        with open(args.public_jwk, "w") as f:
            f.write(json.dumps(public_jwk(key.public_key(), args.kid)) + "\n")
    if args.public_pem:
        with open(args.public_pem, "wb") as f:
            f.write(key.public_key().public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo))
    return 0


def verify_delivery(d, secret_list, key, now=None, tolerance=300):
    """Receiver's steps (kayle.md) with primitives; returns plaintext."""
    body = open(os.path.join(d, "body"), "rb").read()
    hdr = None
    for line in open(os.path.join(d, "headers")).read().splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "x-kayle-signature":
            hdr = value.strip()
    if hdr is None:
        raise ValueError("no signature header")
    parts = dict(p.strip().split("=", 1) for p in hdr.split(","))
    if now is not None and abs(now - int(parts["t"])) > tolerance:
        raise ValueError("stale")
    if not any(hmac.compare_digest(sign(s, parts["t"], body), parts["v1"])
               for s in secret_list):
        raise ValueError("signature mismatch")
    return jwe_decrypt(body, key)


def jwe_decrypt(body, key):
    segs = body.split(b".")
    if len(segs) != 5:
        raise ValueError("not 5 segments")
    hdr = json.loads(unb64u(segs[0]))
    if hdr.get("alg") != "RSA-OAEP-256" or hdr.get("enc") != "A256GCM":
        raise ValueError("alg/enc")
    cek = key.decrypt(unb64u(segs[1]), OAEP)
    if len(cek) != 32:
        raise ValueError("cek length")
    return AESGCM(cek).decrypt(unb64u(segs[2]),
                               unb64u(segs[3]) + unb64u(segs[4]), segs[0])


def cmd_verify(args):
    try:
        pt = verify_delivery(args.dir, [pick_secret(args)],
                             load_private(args.key), time.time(),
                             args.tolerance)
    except Exception as e:  # InvalidTag, ValueError, KeyError
        sys.stdout.write("verify failed: %s\n" % (str(e) or type(e).__name__))
        return 1
    sys.stdout.write("ok %d bytes of plaintext\n" % len(pt))
    return 0


def cmd_selftest(args):
    """Check against vectors made by the sender's own code (Node/jose)."""
    vec = args.vectors
    # HMAC-only vector from protocols/kayle.md's README.
    assert sign("whsec_test_secret", "1742404800", b"encrypted-payload") == \
        "4e4a7ec092b53b027f0b504e4f1c0383af4dc960d2a869d9961d50586f46105b"
    lines = open(os.path.join(vec, "headers.txt")).read().splitlines()
    hdr = lines[0].split(": ", 1)[1]
    secret = lines[1].split(": ", 1)[1]
    body = open(os.path.join(vec, "body.jwe"), "rb").read()
    t = hdr.split(",")[0].split("=", 1)[1]
    assert sig_header(secret, t, body) == hdr, "vector signature"
    key = load_private(os.path.join(vec, "private.pem"))
    pt = json.loads(jwe_decrypt(body, key))
    assert pt["type"] == "verification.session.expired", pt
    # Our JWE must decrypt with the vector's key, via the public JWK the
    # operator registers (the sender only ever sees that).
    pub = load_public(os.path.join(vec, "public.jwk.json"))
    for etype in EVENT_TYPES:
        obj = example(etype)
        plain = compact(obj).encode()
        mine = jwe_encrypt(plain, pub, "k1").encode()
        assert jwe_decrypt(mine, key) == plain
        assert json.loads(unb64u(mine.split(b".")[0])) == \
            {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "k1"}
    # Negative: a flipped byte must fail.
    bad = bytearray(body)
    bad[-3] = ord("A") if bad[-3] != ord("A") else ord("B")
    try:
        jwe_decrypt(bytes(bad), key)
    except Exception:  # InvalidTag
        pass
    else:
        raise AssertionError("tampered JWE decrypted")
    sys.stdout.write("selftest ok\n")
    return 0


def add_secret_args(p):
    p.add_argument("--secret-file")
    p.add_argument("--secret", help="the secret itself (tests only)")
    p.add_argument("--secret-index", type=int, default=0,
                   help="which secret of the file to sign with")


def add_t_args(p):
    p.add_argument("--t", help="exact t value (text, as sent)")
    p.add_argument("--t-offset", type=int, default=0,
                   help="seconds added to now, e.g. -400 for a stale t")


def parser():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("sign")
    add_secret_args(p)
    add_t_args(p)
    p.add_argument("--pubkey", required=True,
                   help="recipient key: public JWK, PEM public or private")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--kid", default="k1")
    g.add_argument("--no-kid", action="store_true")
    p.add_argument("--type", default="verification.session.succeeded")
    p.add_argument("--event-id")
    p.add_argument("--delivery-id")
    p.add_argument("--payload", help="plaintext file instead of the example")
    p.add_argument("--photo-kib", type=int,
                   help="document photo size in KiB (succeeded events)")
    p.add_argument("--big", dest="photo_kib", action="store_const", const=300,
                   help="a 300 KiB document photo")
    p.add_argument("--sign-body-override",
                   help="compute v1 over this file's bytes instead")
    p.add_argument("--no-signature", action="store_true",
                   help="leave out X-Kayle-Signature")
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_sign)

    p = sub.add_parser("resign")
    add_secret_args(p)
    add_t_args(p)
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_resign)

    p = sub.add_parser("alter")
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--offset", type=int)
    p.set_defaults(fn=cmd_alter)

    p = sub.add_parser("example")
    p.add_argument("--type", default="verification.session.succeeded")
    p.add_argument("--event-id")
    p.add_argument("--photo-kib", type=int)
    p.set_defaults(fn=cmd_example)

    p = sub.add_parser("keygen")
    p.add_argument("--bits", type=int, default=2048)
    p.add_argument("--kid")
    p.add_argument("--private", help="private key, PKCS#8 PEM, mode 0600")
    p.add_argument("--private-jwk", help="private JWK, mode 0600")
    p.add_argument("--public-jwk", help="public JWK to register")
    p.add_argument("--public-pem")
    p.set_defaults(fn=cmd_keygen)

    p = sub.add_parser("verify")
    add_secret_args(p)
    p.add_argument("--key", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--tolerance", type=int, default=300)
    p.set_defaults(fn=cmd_verify)

    p = sub.add_parser("selftest")
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--vectors",
                   default=os.path.join(here, "..", "vectors", "kayle-e2e"))
    p.set_defaults(fn=cmd_selftest)
    return ap


def main(argv=None):
    args = parser().parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
