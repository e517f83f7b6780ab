#!/usr/bin/python3
# Copyright (c) 2026 The ct-offload authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at:
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Prints an Ethernet frame as hex for "ovs-appctl netdev-dummy/receive".

ovs-ofctl compose-packet cannot set TCP sequence numbers, which conntrack
checks, so the demo builds its TCP conversations with this instead.

    compose.py tcp SRC:PORT DST:PORT FLAGS SEQ ACK [PAYLOAD_LEN]
    compose.py udp SRC:PORT DST:PORT [PAYLOAD_LEN]

Addresses are IPv4 or IPv6; FLAGS is a subset of "SAFRP" (or "." for
none).
"""

import ipaddress
import struct
import sys

SRC_MAC = bytes.fromhex("505400000001")
DST_MAC = bytes.fromhex("505400000002")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def endpoint(text):
    addr, port = text.rsplit(":", 1)
    return ipaddress.ip_address(addr.strip("[]")), int(port)


def frame(src, dst, proto, l4):
    if src.version == 4:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, proto,
                                                       len(l4))
    else:
        pseudo = src.packed + dst.packed + struct.pack("!I3xB", len(l4),
                                                       proto)
    off = 16 if proto == 6 else 6
    l4 = l4[:off] + struct.pack("!H", csum(pseudo + l4)) + l4[off + 2:]
    if src.version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64,
                         proto, 0, src.packed, dst.packed)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        return DST_MAC + SRC_MAC + b"\x08\x00" + ip + l4
    ip = struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, 64,
                     src.packed, dst.packed)
    return DST_MAC + SRC_MAC + b"\x86\xdd" + ip + l4


def main(argv):
    kind = argv[1]
    (src, sport), (dst, dport) = endpoint(argv[2]), endpoint(argv[3])
    if kind == "tcp":
        flags = sum({"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}[c]
                    for c in argv[4] if c != ".")
        seq, ack = int(argv[5]), int(argv[6])
        payload = b"x" * (int(argv[7]) if len(argv) > 7 else 0)
        l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4,
                         flags, 65535, 0, 0) + payload
        print(frame(src, dst, 6, l4).hex())
    elif kind == "udp":
        payload = b"x" * (int(argv[4]) if len(argv) > 4 else 0)
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        print(frame(src, dst, 17, l4).hex())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
