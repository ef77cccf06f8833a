#!/usr/bin/python3
"""make_jwe_vectors.py: writes tests/vectors/jwe/, the JWE and key vectors of
tests/unit/t_jwe.c, with Python `cryptography` primitives only (an
implementation independent of src/jwe.c).

Run from the source tree root:  /usr/bin/python3 tests/tools/make_jwe_vectors.py
Keys are random, so every run writes new files; the committed ones are the
record.  Test keys only: never use them for anything real.

Every *.jwe is a real compact JWE (RFC 7516 section 7.1): the CEK is wrapped
with the named algorithm and the content encrypted with AES-GCM over
AAD = the ASCII of segment 1, so a case that must be refused is refused for
the one thing that is wrong with it, not for a broken tag.
"""
import base64
import json
import os
import zlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

OUT = "tests/vectors/jwe"
E2E_PEM = "tests/vectors/kayle-e2e/private.pem"
PT = (b'{"data":{},"metadata":{"contract_version":1,"event_id":'
      b'"evt_live_vec","verification_session_id":"vs_live_vec"},'
      b'"type":"verification.session.expired"}')


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_int(i, size=None):
    if size is None:
        size = max(1, (i.bit_length() + 7) // 8)
    return b64u(i.to_bytes(size, "big"))


def oaep256():
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                        algorithm=hashes.SHA256(), label=None)


def oaep1():
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()),
                        algorithm=hashes.SHA1(), label=None)


def hdr(**members):
    return json.dumps(members, separators=(",", ":")).encode()


def jwe(header, pub, pt=PT, cek=None, wrap=oaep256, iv_len=12,
        tag_len=16, ek=None):
    """header: the exact protected header bytes."""
    if cek is None:
        cek = os.urandom(32)
    if ek is None:
        ek = pub.encrypt(cek, wrap())
    iv = os.urandom(iv_len)
    h = b64u(header)
    out = AESGCM(cek).encrypt(iv, pt, h.encode())
    ct, tag = out[:-16], out[-16:][:tag_len]
    return ".".join([h, b64u(ek), b64u(iv), b64u(ct), b64u(tag)])


def jwk_private(key, kid=None, parts=("d", "p", "q", "dp", "dq", "qi")):
    pn = key.private_numbers()
    pub = pn.public_numbers
    size = (key.key_size + 7) // 8
    j = {"kty": "RSA", "n": b64u_int(pub.n, size), "e": b64u_int(pub.e)}
    vals = {"d": pn.d, "p": pn.p, "q": pn.q, "dp": pn.dmp1,
            "dq": pn.dmq1, "qi": pn.iqmp}
    for p in parts:
        j[p] = b64u_int(vals[p])
    if kid is not None:
        j["kid"] = kid
    return json.dumps(j, indent=1) + "\n"


def jwk_ec_private(key):
    pn = key.private_numbers()
    return json.dumps({
        "kty": "EC", "crv": "P-256",
        "x": b64u_int(pn.public_numbers.x, 32),
        "y": b64u_int(pn.public_numbers.y, 32),
        "d": b64u_int(pn.private_value, 32), "kid": "ec"}, indent=1) + "\n"


def pem(key, fmt=serialization.PrivateFormat.PKCS8,
        enc=serialization.NoEncryption()):
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc)


def write(name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def keys():
    a = rsa.generate_private_key(65537, 2048)
    b = rsa.generate_private_key(65537, 2048)
    k4096 = rsa.generate_private_key(65537, 4096)
    k1024 = rsa.generate_private_key(65537, 1024)
    eck = ec.generate_private_key(ec.SECP256R1())
    with open(E2E_PEM, "rb") as f:
        e2e = serialization.load_pem_private_key(f.read(), None)
    write("a.pem", pem(a, serialization.PrivateFormat.TraditionalOpenSSL))
    write("b.pem", pem(b))
    write("b.jwk.json", jwk_private(b, kid="b-jwk"))
    write("b.pub.pem", b.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo))
    write("b.pub.jwk.json", jwk_private(b, kid="b", parts=()))
    write("b.donly.jwk.json", jwk_private(b, kid="b", parts=("d",)))
    write("b.kidlong.jwk.json", jwk_private(b, kid="k" * 129))
    write("e2e.jwk.json", jwk_private(e2e, kid="k1"))
    write("k4096.pem", pem(k4096))
    write("k1024.pem", pem(k1024))
    write("ec.pem", pem(eck))
    # Not RSA, yet 2048 bits: refused for its type, not its size.
    write("dsa.pem", pem(dsa.generate_private_key(2048)))
    write("ec.jwk.json", jwk_ec_private(eck))
    write("oct.jwk.json", json.dumps({"kty": "oct", "k": b64u(os.urandom(32)),
                                      "kid": "oct"}) + "\n")
    write("encrypted.pem", pem(b, enc=serialization.BestAvailableEncryption(
        b"password")))
    return a, b, k4096


def good_header(kid="a"):
    return hdr(alg="RSA-OAEP-256", enc="A256GCM", kid=kid)


def padded_header(total):
    """A valid header of exactly `total` bytes, padded in a "typ" member."""
    base = hdr(alg="RSA-OAEP-256", enc="A256GCM", kid="a", typ="")
    h = hdr(alg="RSA-OAEP-256", enc="A256GCM", kid="a",
            typ="x" * (total - len(base)))
    assert len(h) == total
    return h


def cases(a, b, k4096):
    pa, pb = a.public_key(), b.public_key()
    c = {}
    # Key choice (keys a, b loaded with kids "a", "b" by t_jwe.c).
    c["nokid"] = jwe(hdr(alg="RSA-OAEP-256", enc="A256GCM"), pb)
    c["unknownkid"] = jwe(good_header("zz"), pb)
    c["wrongkid"] = jwe(good_header("a"), pb)
    c["kid_b"] = jwe(good_header("b"), pb)
    # An empty kid must not select the keys that have no kid.
    c["kid_empty"] = jwe(good_header(""), pb)
    c["k4096"] = jwe(good_header("k4096"), k4096.public_key())
    # A correctly wrapped CEK of the wrong length (content under A128GCM).
    c["cek16"] = jwe(good_header("a"), pa, cek=os.urandom(16))
    c["cek31"] = jwe(good_header("a"), pa,
                     ek=pa.encrypt(os.urandom(31), oaep256()))
    c["empty_pt"] = jwe(good_header("a"), pa, pt=b"")
    c["hdr_1024"] = jwe(padded_header(1024), pa)
    c["hdr_1025"] = jwe(padded_header(1025), pa)
    c["kid_128"] = jwe(good_header("k" * 128), pa)
    # Everything below must be refused as malformed.
    c["alg_rsa_oaep"] = jwe(hdr(alg="RSA-OAEP", enc="A256GCM", kid="a"),
                            pa, wrap=oaep1)
    c["alg_rsa1_5"] = jwe(hdr(alg="RSA1_5", enc="A256GCM", kid="a"), pa,
                          wrap=padding.PKCS1v15)
    cek = os.urandom(32)
    c["alg_dir"] = jwe(hdr(alg="dir", enc="A256GCM", kid="a"), pa, cek=cek,
                       ek=b"")
    c["alg_lower"] = jwe(hdr(alg="rsa-oaep-256", enc="A256GCM", kid="a"), pa)
    c["alg_missing"] = jwe(hdr(enc="A256GCM", kid="a"), pa)
    c["alg_array"] = jwe(hdr(alg=["RSA-OAEP-256"], enc="A256GCM", kid="a"),
                         pa)
    c["enc_a128gcm"] = jwe(hdr(alg="RSA-OAEP-256", enc="A128GCM", kid="a"),
                           pa, cek=os.urandom(16))
    c["enc_missing"] = jwe(hdr(alg="RSA-OAEP-256", kid="a"), pa)
    c["zip"] = jwe(hdr(alg="RSA-OAEP-256", enc="A256GCM", kid="a",
                       zip="DEF"), pa, pt=zlib.compress(PT)[2:-4])
    c["crit"] = jwe(hdr(alg="RSA-OAEP-256", enc="A256GCM", kid="a",
                        crit=["exp"], exp=1), pa)
    c["hdr_array"] = jwe(b'["RSA-OAEP-256","A256GCM"]', pa)
    c["hdr_dup"] = jwe(b'{"alg":"RSA-OAEP-256","enc":"A256GCM",'
                       b'"alg":"RSA-OAEP-256"}', pa)
    c["hdr_trailing"] = jwe(good_header("a") + b" x", pa)
    c["hdr_notjson"] = jwe(b"alg=RSA-OAEP-256", pa)
    c["kid_int"] = jwe(b'{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":1}', pa)
    c["kid_129"] = jwe(good_header("k" * 129), pa)
    c["iv16"] = jwe(good_header("a"), pa, iv_len=16)
    c["tag12"] = jwe(good_header("a"), pa, tag_len=12)
    for name, s in c.items():
        write(name + ".jwe", s)
    # For the large-body test: t_jwe.c encrypts 1 MiB itself under this
    # known CEK (OpenSSL EVP directly, not src/jwe.c).
    cek = os.urandom(32)
    h = b64u(good_header("a"))
    write("known_cek.txt", "%s\n%s\n%s\n" % (
        h, b64u(pa.encrypt(cek, oaep256())), cek.hex()))


README = """Made by tests/tools/make_jwe_vectors.py (Python cryptography
primitives); used by tests/unit/t_jwe.c.  Test keys only.  Regenerate from
the source root:
  /usr/bin/python3 tests/tools/make_jwe_vectors.py

Keys: a.pem (RSA-2048, PKCS#1), b.pem (RSA-2048, PKCS#8), b.jwk.json (b as a
private JWK, kid "b-jwk"), b.pub.pem and b.pub.jwk.json (public only),
b.donly.jwk.json (n, e, d only), b.kidlong.jwk.json (kid of 129 bytes),
e2e.jwk.json (the kayle-e2e key as a private JWK, kid "k1"), k4096.pem,
k1024.pem (too small), ec.pem and ec.jwk.json (P-256), dsa.pem (DSA-2048),
oct.jwk.json, encrypted.pem (b, passphrase "password").

JWEs (plaintext = PLAINTEXT unless noted); t_jwe.c loads a as kid "a", b as
kid "b":
  nokid        to b, no kid: every key is tried, b (the 2nd) decrypts
  unknownkid   to b, kid "zz": every key is tried
  wrongkid     to b, kid "a": only a is tried -> NOKEY (no fallback)
  kid_b        to b, kid "b"
  kid_empty    to b, kid "": loaded without kid, a must not be the only try
  k4096        to k4096.pem, kid "k4096"
  cek16, cek31 correctly wrapped CEK of 16 / 31 bytes -> NOKEY
  empty_pt     empty plaintext (and empty segment 4) -> OK
  hdr_1024     protected header of exactly JWE_HEADER_MAX bytes -> OK
  hdr_1025     one byte more -> MALFORMED
  kid_128      kid of KID_MAX bytes -> OK with a loaded under that kid
  MALFORMED, each otherwise a valid JWE for key a:
  alg_rsa_oaep (SHA-1 OAEP), alg_rsa1_5, alg_dir (empty segment 2), alg_lower,
  alg_missing, alg_array, enc_a128gcm, enc_missing, zip (DEF, deflated),
  crit, hdr_array, hdr_dup (alg twice), hdr_trailing, hdr_notjson, kid_int,
  kid_129, iv16 (16-byte IV), tag12 (12-byte tag)
known_cek.txt: segment 1, segment 2 (to a) and the hex CEK, from which the test
  builds a 1 MiB JWE with OpenSSL EVP.
"""


def main():
    os.makedirs(OUT, exist_ok=True)
    a, b, k4096 = keys()
    cases(a, b, k4096)
    write("PLAINTEXT", PT)
    write("README", README)


if __name__ == "__main__":
    main()
