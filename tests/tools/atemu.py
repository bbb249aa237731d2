#!/usr/bin/env python3
"""atemu: an AT-command GSM modem on a pseudo-terminal, for the hotline's tests.

It speaks what libgammu 1.42's `at` connection sends (connect sequence, CPMS,
CMGF=0, CMGL, CMGR, CMGD, CMGS with the "> " prompt and a PDU, CSCA, CSQ, CREG,
COPS, CBC, CUSD, CHUP, CNMI), sends unsolicited RING, +CLIP, +CMTI and +CDS,
and takes orders on a control socket to put messages on its SIM and to
misbehave: silence, ERROR / +CMS ERROR for the next K of a command, noise
bytes, partial lines, unsolicited lines inside answers, malformed PDUs, the
pty going away and coming back. What the hotline sends is decoded (PDU, UDH)
so that a test compares the texts that went over the air.

    atemu.py DIR        runs the modem: DIR/modem is a symlink to the pty,
                        DIR/ctl.sock the control socket, DIR/at.log the log
                        of every AT command, DIR/atemu.pid its pid.
    atemu.py DIR CMD... sends one control command and prints the answer.

Control commands (one line per connection; the answer is the rest):
    sms FROM FLAGS TEXT   put a message on the SIM (FLAGS: comma-separated
                          ucs2, ref=N, skip=N (part N never comes), cmti,
                          class0, or "-"); answers "ok PARTS"
    raw HEXPDU            put a raw (perhaps malformed) Deliver PDU on the SIM
    silence SECONDS       answer nothing (input is dropped) for that long
    fail CMD K [after=N] REPLY...
                          the next K of command CMD (e.g. CMGD, CMGS, CMGL)
                          after N more get REPLY ("ERROR", "+CMS ERROR: 38")
    stall CMD [K] [after=N]
                          the next K of CMD (after N more) get no answer at all
    noise HEX             write these bytes now
    partial TEXT          write TEXT now without CR/LF
    unsol CMD LINE...     put LINE inside the next answer to CMD
    ring NUMBER|-         an incoming call (- : no caller ID, RING only)
    ussd CODE ANSWER...   the network's answer to a USSD code
    unplug SECONDS        close the pty and remove the link; it comes back
                          after SECONDS (0: at "plug")
    plug
    cds REF NUMBER        a delivery report for message reference REF
    count [CMD]           AT commands received (all, or of one command)
    since T               AT commands received after monotonic time T
    now                   the emulator's monotonic time
    inbox                 messages on the SIM
    sent                  one line per part accepted: TO REF SEQ/TOTAL MR TEXT
    messages              one line per message put together from the parts
                          accepted: TO PARTS-GOT TOTAL COPIES TEXT
    call                  the call state: "idle|ringing hangups=N gaveup=N"
    hangups               calls hung up (AT+CHUP, ATH)
    cnmi                  the last AT+CNMI setting ("" when never set)
    state                 "up" or "unplugged"
    quit
Texts in answers have \\ and newlines escaped as \\\\ and \\n.
"""

import errno
import os
import select
import socket
import sys
import time
import tty

GSM7 = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXT = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~",
            0x3E: "]", 0x40: "|", 0x65: "€"}
GSM7_EXT_REV = {v: k for k, v in GSM7_EXT.items()}
SMSC = "+8613800100500"


def esc(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def now():
    return time.monotonic()


# ---- PDU encoding and decoding ------------------------------------------------------------

def gsm7_septets(text):
    """The septets of text, or None when a character is not in GSM-7."""
    out = []
    for ch in text:
        if ch in GSM7_EXT_REV:
            out += [0x1B, GSM7_EXT_REV[ch]]
        else:
            i = GSM7.find(ch)
            if i < 0:
                return None
            out.append(i)
    return out


def gsm7_text(septets):
    out, escape = [], False
    for s in septets:
        if escape:
            out.append(GSM7_EXT.get(s, " "))
            escape = False
        elif s == 0x1B:
            escape = True
        else:
            out.append(GSM7[s])
    return "".join(out)


def pack7(udh, septets):
    """UDH octets, fill bits, then septets, as the user data of a GSM-7 SMS."""
    bits = []
    for b in udh:
        bits += [(b >> i) & 1 for i in range(8)]
    while len(bits) % 7:
        bits.append(0)
    for s in septets:
        bits += [(s >> i) & 1 for i in range(7)]
    out = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        out[i // 8] |= bit << (i % 8)
    return bytes(out), len(bits) // 7


def unpack7(data, udl, skip_octets):
    bits = []
    for b in data:
        bits += [(b >> i) & 1 for i in range(8)]
    start = (skip_octets * 8 + 6) // 7 * 7 if skip_octets else 0
    septets = []
    for k in range(start // 7, udl):
        chunk = bits[k * 7:k * 7 + 7]
        if len(chunk) < 7:
            break
        septets.append(sum(bit << i for i, bit in enumerate(chunk)))
    return septets


def semi_octets(digits):
    if len(digits) % 2:
        digits += "F"
    return bytes(int(digits[i + 1] + digits[i], 16) for i in range(0, len(digits), 2))


def from_semi_octets(data, ndigits):
    s = "".join("%X%X" % (b & 15, b >> 4) for b in data)
    return s[:ndigits]


def address(number):
    intl = number.startswith("+")
    digits = number.lstrip("+")
    return bytes([len(digits), 0x91 if intl else 0x81]) + semi_octets(digits)


def timestamp(t):
    tm = time.gmtime(t)
    s = "%02d%02d%02d%02d%02d%02d" % (tm.tm_year % 100, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
    return semi_octets(s) + bytes([0x00])


def smsc_field():
    a = address(SMSC)
    return bytes([len(a) - 1]) + a[1:]


def deliver_pdus(sender, text, ucs2=False, ref=None, class0=False, t=None):
    """Deliver PDUs (hex, with the SMSC field) for text, concatenated when long."""
    t = time.time() if t is None else t
    septets = None if ucs2 else gsm7_septets(text)
    if septets is None:
        units = text.encode("utf-16-be")
        units = [units[i:i + 2] for i in range(0, len(units), 2)]
        if len(units) <= 70:
            chunks = [units]
        else:
            chunks, cur = [], []
            for u in units:
                if len(cur) == 67 or (len(cur) == 66 and 0xD8 <= u[0] <= 0xDB):
                    chunks.append(cur)
                    cur = []
                cur.append(u)
            chunks.append(cur)
    else:
        if len(septets) <= 160:
            chunks = [septets]
        else:
            chunks, cur = [], []
            for k, s in enumerate(septets):
                if len(cur) == 153 or (len(cur) == 152 and s == 0x1B):
                    chunks.append(cur)
                    cur = []
                cur.append(s)
            chunks.append(cur)
    if ref is None:
        ref = int(t * 1000) % 256
    out = []
    for i, chunk in enumerate(chunks):
        udh = b""
        if len(chunks) > 1:
            udh = bytes([5, 0, 3, ref % 256, len(chunks), i + 1])
        fo = 0x04 | (0x40 if udh else 0)
        if septets is None:
            dcs = 0x18 if class0 else 0x08
            ud = udh + b"".join(chunk)
            udl = len(ud)
        else:
            dcs = 0x10 if class0 else 0x00
            ud, udl = pack7(udh, chunk)
        tpdu = bytes([fo]) + address(sender) + bytes([0, dcs]) + timestamp(t) + bytes([udl]) + ud
        out.append((smsc_field() + tpdu).hex().upper())
    return out


def status_report_pdu(ref, number, t=None):
    t = time.time() if t is None else t
    tpdu = bytes([0x06, ref % 256]) + address(number) + timestamp(t) + timestamp(t) + bytes([0x00])
    return (smsc_field() + tpdu).hex().upper()


def decode_submit(hexpdu):
    """A Submit PDU (with its SMSC field) as a dict: to, mr, ref, total, seq, text."""
    d = bytes.fromhex(hexpdu)
    p = 1 + d[0]
    fo = d[p]
    p += 1
    if fo & 3 != 1:
        raise ValueError("not a Submit PDU")
    mr = d[p]
    p += 1
    ndig, toa = d[p], d[p + 1]
    p += 2
    to = from_semi_octets(d[p:p + (ndig + 1) // 2], ndig)
    if toa & 0x70 == 0x10:
        to = "+" + to
    p += (ndig + 1) // 2
    p += 1  # PID
    dcs = d[p]
    p += 1
    vpf = (fo >> 3) & 3
    p += {0: 0, 2: 1}.get(vpf, 7)
    udl = d[p]
    ud = d[p + 1:]
    coding = "gsm7"
    if dcs & 0xC0 == 0:
        coding = {0: "gsm7", 1: "8bit", 2: "ucs2"}.get((dcs >> 2) & 3, "gsm7")
    elif dcs & 0xF0 == 0xF0:
        coding = "8bit" if dcs & 4 else "gsm7"
    ref, total, seq, udh_len = -1, 1, 1, 0
    if fo & 0x40:
        udh_len = ud[0] + 1
        i = 1
        while i + 1 < udh_len:
            iei, ln = ud[i], ud[i + 1]
            if iei == 0 and ln == 3:
                ref, total, seq = ud[i + 2], ud[i + 3], ud[i + 4]
            elif iei == 8 and ln == 4:
                ref, total, seq = ud[i + 2] << 8 | ud[i + 3], ud[i + 4], ud[i + 5]
            i += 2 + ln
    if coding == "gsm7":
        text = gsm7_text(unpack7(ud, udl, udh_len))
    elif coding == "ucs2":
        text = ud[udh_len:udl].decode("utf-16-be", errors="replace")
    else:
        text = ud[udh_len:udl].hex()
    return {"to": to, "mr": mr, "ref": ref, "total": total, "seq": seq, "text": text, "coding": coding,
            "srr": bool(fo & 0x20)}


def ucs2_hex(text):
    return text.encode("utf-16-be").hex().upper()


# ---- the modem -------------------------------------------------------------------------------

class Modem:
    def __init__(self, folder, delay):
        self.dir = folder
        self.link = os.path.join(folder, "modem")
        self.delay = delay
        self.master = self.slave = -1
        self.plug_at = None
        self.inbuf = b""
        self.echo = True
        self.charset = "IRA"
        self.mem = "SM"
        self.storage = {"SM": {}, "ME": {}}
        self.capacity = 30
        self.pdu_mode = False
        self.pdu_len = 0
        self.cmgs_buf = b""
        self.cmgf = 0
        self.cnmi = ""
        self.creg_mode = 0
        self.cops_format = 0
        self.mr = 0
        self.silent_until = 0.0
        self.faults = []   # [cmd, remaining, after, reply]; reply None: no answer at all
        self.unsols = []   # [cmd, line]
        self.sent = []     # decoded parts accepted
        self.log = open(os.path.join(folder, "at.log"), "a", buffering=1)
        self.commands = []  # (time, name)
        self.call = None    # {"number": str or None, "next": t, "until": t}
        self.hangups = 0
        self.gave_up = 0
        self.ussd = {}
        self.pending = []   # (time, bytes) to write later (USSD answers)
        self.open_pty()

    # -- the pty
    def open_pty(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        name = os.ttyname(self.slave)
        tmp = self.link + ".new"
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(name, tmp)
        os.rename(tmp, self.link)
        self.inbuf = b""
        self.pdu_mode = False
        self.echo = True

    def close_pty(self):
        try:
            os.unlink(self.link)
        except FileNotFoundError:
            pass
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)
        self.master = self.slave = -1

    def write(self, data):
        if self.master < 0:
            return
        if isinstance(data, str):
            data = data.encode("latin-1", errors="replace")
        try:
            os.write(self.master, data)
        except OSError:
            pass

    def line(self, text):
        self.write("\r\n" + text + "\r\n")

    # -- unsolicited
    def tick(self):
        t = now()
        if self.plug_at is not None and t >= self.plug_at:
            self.plug_at = None
            self.open_pty()
        if self.master < 0 or t < self.silent_until:
            return
        for item in list(self.pending):
            if item[0] <= t:
                self.pending.remove(item)
                self.write(item[1])
        c = self.call
        if c is not None:
            if t >= c["until"]:
                self.call = None
                self.gave_up += 1
                self.line("NO CARRIER")
            elif t >= c["next"]:
                c["next"] = t + c["period"]
                self.line("RING")
                if c["number"]:
                    num = c["number"]
                    if self.charset == "UCS2":
                        num = ucs2_hex(num)
                    self.line('+CLIP: "%s",%d,,,,0' % (num, 145 if c["number"].startswith("+") else 129))

    def cmti(self, idx):
        if self.cnmi:
            parts = self.cnmi.split(",")
            if len(parts) > 1 and parts[1].strip() in ("1", "2", "3"):
                self.line('+CMTI: "SM",%d' % idx)

    # -- commands
    def feed(self, data):
        if now() < self.silent_until:
            return
        if self.pdu_mode:
            self.cmgs_buf += data
            end = min([i for i in (self.cmgs_buf.find(b"\x1a"), self.cmgs_buf.find(b"\x1b")) if i >= 0],
                      default=-1)
            if end < 0:
                return
            body, rest = self.cmgs_buf[:end], self.cmgs_buf[end + 1:]
            cancel = self.cmgs_buf[end] == 0x1B
            self.pdu_mode = False
            self.cmgs_buf = b""
            if self.echo:
                self.write(body)
            self.finish_cmgs(body.decode("latin-1").strip(), cancel)
            data = rest
            if not data:
                return
        self.inbuf += data
        while True:
            i = self.inbuf.find(b"\r")
            if i < 0:
                break
            raw, self.inbuf = self.inbuf[:i], self.inbuf[i + 1:]
            self.inbuf = self.inbuf.lstrip(b"\n")
            cmd = raw.replace(b"\x1b", b"").replace(b"\n", b"").decode("latin-1").strip()
            if not cmd:
                continue
            self.command(cmd)
            if self.pdu_mode:
                rest, self.inbuf = self.inbuf, b""
                if rest:
                    self.feed(rest)
                return

    @staticmethod
    def name_of(cmd):
        """CMGS for AT+CMGS=..., E for ATE1, H for ATH: what faults are keyed by."""
        body = cmd[2:] if cmd[:2].upper() == "AT" else cmd
        if body[:1] in ("+", "$", "^", "#", "*", "%"):
            n = ""
            for ch in body[1:]:
                if not ch.isalnum():
                    break
                n += ch
            return n.upper()
        return body[:1].upper()

    def fault_for(self, name):
        for f in self.faults:
            if f[0] == name:
                if f[2] > 0:
                    f[2] -= 1
                    return None
                f[1] -= 1
                if f[1] <= 0:
                    self.faults.remove(f)
                return f
        return None

    def command(self, cmd):
        name = self.name_of(cmd)
        t = now()
        self.commands.append((t, name))
        self.log.write("%.3f %s\n" % (t, cmd))
        if self.delay:
            time.sleep(self.delay)
        if self.echo:
            self.write(cmd + "\r")
        if name == "CMGS" and cmd.upper().startswith("AT+CMGS="):
            self.pdu_mode = True
            self.cmgs_buf = b""
            self.write("\r\n> ")
            return
        f = self.fault_for(name)
        if f is not None:
            if f[3] is not None:
                self.line(f[3])
            return
        lines, final = self.answer(cmd, name)
        for u in list(self.unsols):
            if u[0] == name:
                self.unsols.remove(u)
                lines = lines[:1] + [u[1]] + lines[1:]
        out = "".join("\r\n" + ln + "\r\n" for ln in lines)
        if final is not None:
            out += "\r\n" + final + "\r\n"
        self.write(out)

    def finish_cmgs(self, pdu, cancel):
        if cancel:
            self.line("OK")
            return
        f = self.fault_for("CMGS")
        if f is not None:
            if f[3] is not None:
                self.line(f[3])
            return
        try:
            part = decode_submit(pdu)
        except (ValueError, IndexError) as e:
            self.log.write("# bad PDU %s: %s\n" % (pdu, e))
            self.line("+CMS ERROR: 304")
            return
        self.mr = (self.mr + 1) % 256
        part["mr"] = self.mr
        self.sent.append(part)
        self.log.write("# sent to %s ref %d part %d/%d: %s\n" % (part["to"], part["ref"], part["seq"],
                                                                 part["total"], esc(part["text"])))
        self.write("\r\n+CMGS: %d\r\n\r\nOK\r\n" % self.mr)

    def store(self, pdu, mem="SM"):
        st = self.storage[mem]
        for idx in range(1, self.capacity + 1):
            if idx not in st:
                st[idx] = [0, pdu]
                return idx
        return -1

    def answer(self, cmd, name):
        u = cmd.upper()
        arg = cmd[cmd.find("=") + 1:] if "=" in cmd else None
        ok = "OK"
        if u in ("AT", "ATZ", "AT&F") or name in ("Z",):
            return [], ok
        if name == "E":
            self.echo = not u.endswith("0")
            return [], ok
        if name in ("H",):
            return self.hangup()
        if name == "I" and u == "ATI":
            return ["HotlineEmu ATEMU-1"], ok
        if name == "CMEE" or name in ("CLIP", "CRC", "CCWA", "CFUN", "CSMS", "CLCC", "CMGW"):
            if u == "AT+CFUN?":
                return ["+CFUN: 1"], ok
            if u == "AT+CLCC":
                return ([] if self.call is None else ['+CLCC: 1,1,4,0,0,"%s",129' % (self.call["number"] or "")]), ok
            return [], ok
        if name == "CSCS":
            if u == "AT+CSCS?":
                return ['+CSCS: "%s"' % self.charset], ok
            if u == "AT+CSCS=?":
                return ['+CSCS: ("IRA","GSM","UCS2")'], ok
            self.charset = arg.strip('"').upper()
            return [], ok
        if name == "CGMI" or name == "GMI":
            return ["HotlineEmu"], ok
        if name == "CGMM" or name == "GMM":
            return ["ATEMU-1"], ok
        if name == "CGMR" or name == "GMR":
            return ["1.0"], ok
        if name == "CGSN" or name == "GSN":
            return ["866000000000001"], ok
        if name == "CIMI":
            return ["460000000000001"], ok
        if name == "CHUP":
            if u == "AT+CHUP=?":
                return [], ok
            return self.hangup()
        if name == "CPIN":
            return ["+CPIN: READY"], ok
        if name == "CPMS":
            if u == "AT+CPMS=?":
                return ['+CPMS: ("ME","SM"),("ME","SM"),("ME","SM")'], ok
            if u == "AT+CPMS?":
                n = len(self.storage[self.mem])
                return ['+CPMS: "%s",%d,%d,"%s",%d,%d,"%s",%d,%d' % ((self.mem, n, self.capacity) * 3)], ok
            mems = [m.strip('"') for m in arg.split(",")]
            if mems[0] not in self.storage:
                return [], "+CMS ERROR: 302"
            self.mem = mems[0]
            n = len(self.storage[self.mem])
            return ["+CPMS: %d,%d,%d,%d,%d,%d" % ((n, self.capacity) * 3)], ok
        if name == "CMGF":
            if u == "AT+CMGF=?":
                return ["+CMGF: (0,1)"], ok
            if u == "AT+CMGF?":
                return ["+CMGF: %d" % self.cmgf], ok
            self.cmgf = int(arg or "0")
            return [], ok
        if name == "CMGL":
            lines = []
            for idx in sorted(self.storage[self.mem]):
                st, pdu = self.storage[self.mem][idx]
                lines.append("+CMGL: %d,%d,,%d" % (idx, st, max(0, len(pdu) // 2 - 1 - int(pdu[:2] or "0", 16))))
                lines.append(pdu)
                self.storage[self.mem][idx][0] = 1
            if lines:
                # a modem writes the listing as one block: the PDU follows its header line directly
                return ["\r\n".join(lines)], ok
            return [], ok
        if name == "CMGR":
            try:
                idx = int(arg)
            except (TypeError, ValueError):
                return [], "+CMS ERROR: 321"
            m = self.storage[self.mem].get(idx)
            if m is None:
                return [], "+CMS ERROR: 321"
            st, pdu = m
            m[0] = 1
            return ["+CMGR: %d,,%d\r\n%s" % (st, max(0, len(pdu) // 2 - 1 - int(pdu[:2], 16)), pdu)], ok
        if name == "CMGD":
            try:
                idx = int(arg.split(",")[0])
            except (TypeError, ValueError, AttributeError):
                return [], "+CMS ERROR: 321"
            self.storage[self.mem].pop(idx, None)
            return [], ok
        if name == "CSCA":
            if u == "AT+CSCA?":
                num = SMSC if self.charset != "UCS2" else ucs2_hex(SMSC)
                return ['+CSCA: "%s",145' % num], ok
            return [], ok
        if name == "CSMP":
            return (["+CSMP: 17,167,0,0"] if u == "AT+CSMP?" else []), ok
        if name == "CSQ":
            return ["+CSQ: 20,99"], ok
        if name == "CREG" or name == "CGREG" or name == "CEREG":
            if u.endswith("?"):
                if self.creg_mode == 2:
                    return ['+%s: 2,1,"1A2B","0C3D"' % name], ok
                return ["+%s: %d,1" % (name, self.creg_mode)], ok
            if u.endswith("=?"):
                return ["+%s: (0-2)" % name], ok
            if name == "CREG":
                self.creg_mode = int(arg or "0")
            return [], ok
        if name == "COPS":
            if u == "AT+COPS?":
                if self.cops_format == 2:
                    return ['+COPS: 0,2,"46000",2'], ok
                return ['+COPS: 0,0,"CHINA MOBILE",2'], ok
            if u == "AT+COPS=?":
                return ['+COPS: (2,"CHINA MOBILE","CMCC","46000",2),,(0-4),(0-2)'], ok
            parts = (arg or "").split(",")
            if len(parts) > 1:
                self.cops_format = int(parts[1] or "0")
            return [], ok
        if name == "CBC":
            return ["+CBC: 0,80"], ok
        if name == "CNMI":
            if u == "AT+CNMI=?":
                return ["+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)"], ok
            if u == "AT+CNMI?":
                return ["+CNMI: %s" % (self.cnmi or "0,0,0,0,0")], ok
            self.cnmi = arg or ""
            return [], ok
        if name == "CUSD":
            if u == "AT+CUSD=?":
                return ["+CUSD: (0-2)"], ok
            if u == "AT+CUSD?":
                return ["+CUSD: 1"], ok
            parts = (arg or "").split(",")
            if len(parts) >= 2:
                code = parts[1].strip('"')
                if self.charset == "UCS2":
                    try:
                        code = bytes.fromhex(code).decode("utf-16-be")
                    except ValueError:
                        pass
                text = self.ussd.get(code, "Reply for %s" % code)
                if self.charset == "UCS2":
                    line = '\r\n+CUSD: 0,"%s",72\r\n' % ucs2_hex(text)
                else:
                    line = '\r\n+CUSD: 0,"%s",15\r\n' % text
                self.pending.append((now() + 0.05, line.encode("latin-1", errors="replace")))
            return [], ok
        return [], "ERROR"

    def hangup(self):
        if self.call is not None:
            self.call = None
            self.hangups += 1
        return [], "OK"

    # -- what went over the air
    def messages(self):
        groups = {}
        order = []
        for p in self.sent:
            key = (p["to"], p["ref"], p["total"]) if p["total"] > 1 else (p["to"], "single", len(order))
            if key not in groups:
                groups[key] = {}
                order.append(key)
            groups[key].setdefault(p["seq"], []).append(p["text"])
        out = []
        for key in order:
            g = groups[key]
            total = key[2] if key[1] != "single" else 1
            copies = max(len(v) for v in g.values())
            text = "".join(g[s][0] for s in sorted(g))
            out.append("%s %d %d %d %s" % (key[0], len(g), total, copies, esc(text)))
        return out


def control(m, line):
    words = line.split(" ")
    op = words[0]
    rest = line[len(op) + 1:]
    if op == "sms":
        sender, flags, text = rest.split(" ", 2) if rest.count(" ") >= 2 else (rest.split(" ") + ["", ""])[:3]
        text = text.replace("\\n", "\n")
        fl = {} if flags == "-" else dict((f.split("=") + [""])[:2] for f in flags.split(","))
        pdus = deliver_pdus(sender, text, ucs2="ucs2" in fl, ref=int(fl["ref"]) if fl.get("ref") else None,
                            class0="class0" in fl)
        skip = int(fl.get("skip") or 0)
        placed = 0
        for k, pdu in enumerate(pdus):
            if k + 1 == skip:
                continue
            idx = m.store(pdu)
            if idx < 0:
                return "error SIM full"
            placed += 1
            if "cmti" in fl:
                m.cmti(idx)
        return "ok %d" % placed
    if op == "raw":
        idx = m.store(rest.strip())
        return "ok %d" % idx
    if op == "silence":
        m.silent_until = now() + float(rest)
        return "ok"
    if op in ("fail", "stall"):
        w = rest.split(" ")
        cmd = w[0].upper()
        count = int(w[1]) if len(w) > 1 and w[1].isdigit() else 1
        w = w[2:] if len(w) > 1 and w[1].isdigit() else w[1:]
        after = 0
        if w and w[0].startswith("after="):
            after = int(w[0][6:])
            w = w[1:]
        reply = " ".join(w) if op == "fail" else None
        m.faults.append([cmd, count, after, reply])
        return "ok"
    if op == "clear":
        m.faults = []
        m.silent_until = 0
        return "ok"
    if op == "noise":
        m.write(bytes.fromhex(rest.strip()))
        return "ok"
    if op == "partial":
        m.write(rest)
        return "ok"
    if op == "unsol":
        cmd, text = rest.split(" ", 1)
        m.unsols.append([cmd.upper(), text])
        return "ok"
    if op == "ring":
        number = rest.strip()
        m.call = {"number": None if number == "-" else number, "next": now(), "until": now() + 30, "period": 2.0}
        return "ok"
    if op == "ussd":
        code, text = rest.split(" ", 1)
        m.ussd[code] = text
        return "ok"
    if op == "unplug":
        secs = float(rest or "0")
        m.close_pty()
        m.plug_at = now() + secs if secs > 0 else None
        return "ok"
    if op == "plug":
        if m.master < 0:
            m.plug_at = None
            m.open_pty()
        return "ok"
    if op == "cds":
        ref, number = rest.split(" ")
        pdu = status_report_pdu(int(ref), number)
        m.line("+CDS: %d" % (len(pdu) // 2 - 1 - int(pdu[:2], 16)))
        m.write(pdu + "\r\n")
        return "ok"
    if op == "count":
        cmd = rest.strip().upper()
        return "ok %d" % sum(1 for c in m.commands if not cmd or c[1] == cmd)
    if op == "since":
        t = float(rest)
        return "ok %d" % sum(1 for c in m.commands if c[0] > t)
    if op == "now":
        return "ok %.3f" % now()
    if op == "inbox":
        return "ok %d" % len(m.storage["SM"])
    if op == "sent":
        return "\n".join(["ok %d" % len(m.sent)] + ["%s %d %d/%d %d %s" % (p["to"], p["ref"], p["seq"], p["total"],
                                                                           p["mr"], esc(p["text"])) for p in m.sent])
    if op == "messages":
        msgs = m.messages()
        return "\n".join(["ok %d" % len(msgs)] + msgs)
    if op == "call":
        return "ok %s hangups=%d gaveup=%d" % ("idle" if m.call is None else "ringing", m.hangups, m.gave_up)
    if op == "hangups":
        return "ok %d" % m.hangups
    if op == "cnmi":
        return "ok " + m.cnmi
    if op == "state":
        return "ok " + ("up" if m.master >= 0 else "unplugged")
    return "error unknown command %s" % op


def serve(folder, delay):
    os.makedirs(folder, exist_ok=True)
    m = Modem(folder, delay)
    sock_path = os.path.join(folder, "ctl.sock")
    try:
        os.unlink(sock_path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(16)
    with open(os.path.join(folder, "atemu.pid.new"), "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(os.path.join(folder, "atemu.pid.new"), os.path.join(folder, "atemu.pid"))
    while True:
        fds = [srv] + ([m.master] if m.master >= 0 else [])
        r, _, _ = select.select(fds, [], [], 0.02)
        m.tick()
        if m.master >= 0 and m.master in r:
            try:
                data = os.read(m.master, 4096)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                data = b""
            if data:
                m.feed(data)
        if srv in r:
            conn, _ = srv.accept()
            conn.settimeout(2)
            buf = b""
            try:
                while not buf.endswith(b"\n"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                line = buf.decode("utf-8").rstrip("\n")
                if line == "quit":
                    conn.sendall(b"ok\n")
                    conn.close()
                    break
                try:
                    ans = control(m, line)
                except Exception as e:  # a bad order must not kill the modem
                    ans = "error %s: %s" % (type(e).__name__, e)
                conn.sendall((ans + "\n").encode("utf-8"))
            except OSError:
                pass
            conn.close()
    m.close_pty()
    os.unlink(sock_path)


def client(folder, words):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(folder, "ctl.sock"))
    s.sendall((" ".join(words) + "\n").encode("utf-8"))
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    sys.stdout.write(out.decode("utf-8"))
    return 0 if out.startswith(b"ok") else 1


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    folder = sys.argv[1]
    if len(sys.argv) > 2:
        return client(folder, sys.argv[2:])
    delay = float(os.environ.get("ATEMU_DELAY_MS", "0")) / 1000.0
    serve(folder, delay)
    return 0


if __name__ == "__main__":
    sys.exit(main())
