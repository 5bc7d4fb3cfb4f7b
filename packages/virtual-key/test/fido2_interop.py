"""Drives a KeyBench virtual key over UDP with python-fido2 (0.9.x) as an outside client.

python-fido2's own CTAPHID code (fido2.hid.CtapHidDevice) runs over a UDP connection class
defined here; its own CTAP1 code (fido2.ctap1.Ctap1) sends the U2F APDUs; its own
RegistrationData and SignatureData classes parse and verify the results.

Usage: python3 fido2_interop.py HOST PORT. Prints one JSON object; exits 0 when every check
passed, 1 otherwise.
"""

import hashlib
import json
import os
import socket
import sys

from fido2.ctap1 import APDU, ApduError, Ctap1
from fido2.hid import CTAPHID, CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor


class UdpConnection(CtapHidConnection):
    """One 64-byte report per datagram, no report id, replies to our own socket."""

    def __init__(self, host, port):
        self.address = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5.0)

    def write_packet(self, data):
        # fido2 0.9 passes the 64-byte packet without a report id.
        self.sock.sendto(bytes(data), self.address)

    def read_packet(self):
        data, _ = self.sock.recvfrom(1024)
        return data

    def close(self):
        self.sock.close()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    results = {}
    descriptor = HidDescriptor("udp:%s:%d" % (host, port), 0, 0, 64, 64)
    device = CtapHidDevice(descriptor, UdpConnection(host, port))  # sends INIT
    results["init_version"] = device.version
    results["capabilities"] = device.capabilities

    message = os.urandom(100)
    results["ping"] = device.call(CTAPHID.PING, message) == message

    ctap1 = Ctap1(device)
    results["version"] = ctap1.get_version()

    app_param = hashlib.sha256(b"https://keybench.example").digest()
    client_param = hashlib.sha256(b'{"typ":"navigator.id.finishEnrollment"}').digest()
    registration = ctap1.register(client_param, app_param)
    registration.verify(app_param, client_param)  # raises InvalidSignature when wrong
    results["register_verified"] = True
    results["key_handle_length"] = len(registration.key_handle)

    counters = []
    for _ in range(2):
        challenge = hashlib.sha256(os.urandom(32)).digest()
        signature = ctap1.authenticate(challenge, app_param, registration.key_handle)
        signature.verify(app_param, challenge, registration.public_key)
        counters.append(signature.counter)
        results["user_presence"] = signature.user_presence
    results["authenticate_verified"] = True
    results["counters"] = counters

    try:
        ctap1.authenticate(client_param, app_param, registration.key_handle, check_only=True)
        results["check_only"] = "9000"
    except ApduError as error:
        results["check_only"] = "%04x" % error.code

    other_app = hashlib.sha256(b"https://other.example").digest()
    try:
        ctap1.authenticate(client_param, other_app, registration.key_handle)
        results["wrong_app"] = "9000"
    except ApduError as error:
        results["wrong_app"] = "%04x" % error.code

    device.close()
    ok = (
        results["ping"]
        and results["version"] == "U2F_V2"
        and results["user_presence"] == 1
        and counters[1] > counters[0]
        and results["check_only"] == "%04x" % APDU.USE_NOT_SATISFIED
        and results["wrong_app"] == "%04x" % APDU.WRONG_DATA
    )
    results["ok"] = bool(ok)
    print(json.dumps(results))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
