#!/usr/bin/env python3
"""Hostile input against a real `herald serve` over loopback.

    python3 Tests/hostile/hostile.py [HERALD_BINARY] [--slow N]

Starts `herald serve` with the repo's rules.yaml on a fresh SQLite file and throws at it: N slow
connections (2000 by default) that send half a request and stop, while signed webhooks still
have to get through; a 1 GiB body; header floods; path traversal in {provider}; JSON nested
100 000 deep; invalid UTF-8 in body, headers and path; NaN, infinite and huge amounts. Each case
prints its counts; the run fails (exit 1) on any wrong answer, on a server that died or stopped
answering, or on a full phone number or secret in its log.
"""
import hashlib, hmac, json, os, re, select, selectors, socket, sqlite3, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET = b"herald-test-secret"
ENV = {
    "COD_WEBHOOK_SECRET": "herald-test-secret", "WAKILNI_WEBHOOK_SECRET": "herald-test-secret",
    "ARMADA_APP_ID": "armada-app-7f3c", "ELEBNE_WEBHOOK_SECRET": "herald-test-secret", "STOREFRONT_API_KEY": "sf-key-91c2d",
}
failures = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raw(port, data, timeout=10.0, read=True):
    """Sends bytes, returns (status or None, response bytes); None when the server closed first."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        if not read:
            return None, b""
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
                    m = re.search(rb"content-length: *(\d+)", head, re.I)
                    if m and len(body) >= int(m.group(1)):
                        break
        except OSError:
            pass
        data = b"".join(chunks)
        m = re.match(rb"HTTP/1\.1 (\d{3})", data)
        return (int(m.group(1)) if m else None), data
    finally:
        s.close()


def request(method, path, body=b"", headers=()):
    lines = [f"{method} ".encode() + path + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def signed(body, path=b"/webhooks/cod-fulfillment", extra=()):
    signature = hmac.new(SECRET, body, hashlib.sha256).hexdigest().encode()
    return request("POST", path, body, [(b"Content-Type", b"application/json"), (b"X-Webhook-Signature", signature), *extra])


SEED = json.load(open(os.path.join(ROOT, "samples/cod-fulfillment/delivered.json"), "rb"))


def payload(ref, amount=None, raw_amount=None):
    body = json.loads(json.dumps(SEED))
    body["order"]["reference"] = ref
    text = json.dumps(body, ensure_ascii=False)
    if raw_amount is not None:
        text = re.sub(r'"amount": [^,]+', '"amount": ' + raw_amount, text, count=1)
    return text.encode()


def healthy(port):
    status, _ = raw(port, request("GET", b"/healthz"), timeout=5)
    return status == 200


def main():
    args = sys.argv[1:]
    slow = 2000
    if "--slow" in args:
        i = args.index("--slow")
        slow = int(args[i + 1])
        del args[i:i + 2]
    binary = args[0] if args else os.path.join(ROOT, ".build/debug/herald")
    work = tempfile.mkdtemp(prefix="herald-hostile-")
    db = os.path.join(work, "herald.sqlite")
    port = free_port()
    log = open(os.path.join(work, "herald.log"), "w+")
    env = dict(os.environ, **ENV)
    server = subprocess.Popen(
        [binary, "serve", "--rules", os.path.join(ROOT, "rules.yaml"), "--templates", os.path.join(ROOT, "templates"),
         "--db", db, "--port", str(port), "--idle-timeout", "3", "--log-level", "info"],
        stdout=log, stderr=log, env=env)
    try:
        for _ in range(600):
            try:
                if healthy(port):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            print("herald serve did not come up")
            return 1
        run_cases(port, slow)
        time.sleep(1.5)  # let the processor take the stored events
        check(server.poll() is None and healthy(port), "server alive and healthy after everything")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    log.seek(0)
    text = log.read()
    check(server.returncode == 0, f"clean exit on SIGTERM (exit {server.returncode})")
    check("Fatal error" not in text and "Segmentation" not in text, "no crash in the log")
    check("herald-test-secret" not in text and "+212661234567" not in text and "0661234567" not in text,
          "no secret or customer phone number in the log")
    events = sqlite3.connect(db)
    stored, with_errors = events.execute("SELECT count(*), count(parse_error) FROM events").fetchone()
    print(f"store: {stored} events, {with_errors} with a parse error")
    print(f"hostile input: {'FAILED: ' + '; '.join(failures) if failures else 'all cases passed'} (log: {log.name})")
    return 1 if failures else 0


def run_cases(port, slow):
    # 1. Slow connections: half a request each, then silence. Normal traffic must still get through,
    #    and the idle timeout must close them.
    print(f"== {slow} slow connections")
    sockets = []
    for i in range(slow):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"POST /webhooks/cod-fulfillment HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Len")
        sockets.append(s)
    started = time.monotonic()
    answers = [raw(port, signed(payload(f"SLOW-{i}")))[0] for i in range(50)]
    elapsed = time.monotonic() - started
    check(answers.count(200) == 50, f"50 signed webhooks during the slow connections: {answers.count(200)} answered 200 in {elapsed:.2f} s")
    deadline = time.monotonic() + 15
    poller = selectors.DefaultSelector()
    for s in sockets:
        poller.register(s, selectors.EVENT_READ)
    open_ = set(sockets)
    while open_ and time.monotonic() < deadline:
        for key, _ in poller.select(0.5):
            try:
                closed = not key.fileobj.recv(4096)
            except OSError:
                closed = True
            if closed:
                open_.discard(key.fileobj)
                poller.unregister(key.fileobj)
    check(not open_, f"slow connections closed by the server within {time.monotonic() - started:.1f} s: {slow - len(open_)} of {slow}")
    for s in sockets:
        s.close()

    # 1b. Slowloris: headers trickled a byte at a time. The idle timeout counts complete HTTP
    #     parts, not bytes, so trickling does not keep a connection open past it.
    print("== 100 connections trickling their headers, a byte every 0.5 s")
    trickle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(100)]
    line = b"POST /webhooks/cod-fulfillment HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"z" * 200
    started, open_ = time.monotonic(), set(trickle)
    position = 0
    while open_ and time.monotonic() - started < 15:
        for s in list(open_):
            try:
                s.send(line[position:position + 1])
            except OSError:
                open_.discard(s)
        position = min(position + 1, len(line) - 1)
        time.sleep(0.5)
    check(not open_, f"trickling connections closed within {time.monotonic() - started:.1f} s: {100 - len(open_)} of 100")
    for s in trickle:
        s.close()

    # 2. A 1 GiB body: 413 from Content-Length, without reading it.
    print("== 1 GiB body")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /webhooks/cod-fulfillment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n")
    sent, started, answer = 0, time.monotonic(), b""
    chunk = b"{" * 65536
    s.setblocking(False)
    while sent < (1 << 30) and time.monotonic() - started < 20:
        readable, writable, _ = select.select([s], [s], [], 1)
        if readable:
            try:
                data = s.recv(65536)
            except OSError:
                break
            if not data:
                break
            answer += data
            if b"\r\n\r\n" in answer:
                break
        if writable:
            try:
                sent += s.send(chunk)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                break
    s.close()
    check(answer.startswith(b"HTTP/1.1 413"), f"1 GiB body answered {answer[:12].decode(errors='replace') or 'nothing'} after {sent / 1e6:.1f} MB sent of 1074 MB, {time.monotonic() - started:.2f} s")
    # The same without Content-Length (chunked): cut at the limit.
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /webhooks/cod-fulfillment HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"%x\r\n" % 65536 + b"[" * 65536 + b"\r\n"
    answer = b""
    try:
        for _ in range(64):  # 4 MiB, four times the limit
            s.sendall(piece)
    except OSError:
        pass
    try:
        s.settimeout(10)
        answer = s.recv(4096)
    except OSError:
        pass
    s.close()
    check(answer.startswith(b"HTTP/1.1 413"), f"chunked body over the limit answered {answer[:12].decode(errors='replace') or 'nothing'}")

    # 3. Header floods.
    print("== header floods")
    many = [(b"X-Flood-%d" % i, b"a" * 20) for i in range(20000)]
    status, _ = raw(port, signed(payload("FLOOD-1"), extra=many))
    check(status != 200 and (status is None or 400 <= status < 500), f"20 000 headers: {status or 'connection closed'}")
    status, _ = raw(port, signed(payload("FLOOD-2"), extra=[(b"X-Big", b"b" * (1 << 20))]))
    check(status != 200 and (status is None or 400 <= status < 500), f"one 1 MiB header: {status or 'connection closed'}")
    check(healthy(port), "healthy after the floods")

    # 4. Path traversal and odd provider names: 404, never a file or a crash.
    print("== paths")
    for path in [b"/webhooks/..%2F..%2Fetc%2Fpasswd", b"/webhooks/../healthz", b"/webhooks/%2e%2e", b"/webhooks/cod-fulfillment%00",
                 b"/webhooks/" + b"a" * 10000, b"/webhooks/%ff%fe", b"/webhooks/cod-fulfillment/../../x", b"/webhooks/\xff\xfe"]:
        status, _ = raw(port, signed(payload("PATH"), path=path))
        check(status in (400, 404) or status is None, f"{path[:48]!r}: {status or 'connection closed'}")

    # 5. Deep nesting, invalid UTF-8, hostile numbers: signed, so stored (200) and kept for the operator.
    print("== hostile bodies (validly signed)")
    cases = {
        "JSON nested 100 000 deep": b"[" * 100000 + b"]" * 100000,
        "objects nested 100 000 deep": b'{"a":' * 100000 + b"1" + b"}" * 100000,
        "invalid UTF-8 in the body": payload("UTF8-1").replace(b"Salma", b"Sa\xff\xfelma"),
        "lone surrogate escape": payload("UTF8-2").replace(b"Salma", b"Sa\\ud800lma"),
        "NaN amount": payload("AMOUNT-NAN", raw_amount="NaN"),
        "Infinity amount": payload("AMOUNT-INF", raw_amount="Infinity"),
        "amount 1e999": payload("AMOUNT-1E999", raw_amount="1e999"),
        "amount -1e308": payload("AMOUNT-NEG", raw_amount="-1e308"),
        "amount with 400 digits": payload("AMOUNT-HUGE", raw_amount="9" * 400),
        "amount as a string": payload("AMOUNT-STR", raw_amount='"12,5 DH"'),
    }
    for name, body in cases.items():
        status, answer = raw(port, signed(body))
        check(status == 200, f"{name}: {status}")
    # Invalid UTF-8 in a signature header: rejected, not crashed.
    body = payload("UTF8-HEADER")
    status, _ = raw(port, request("POST", b"/webhooks/cod-fulfillment", body, [(b"X-Webhook-Signature", b"\xff\xfe" * 32)]))
    check(status == 401, f"invalid UTF-8 in the signature header: {status}")
    status, _ = raw(port, request("POST", b"/webhooks/cod-fulfillment", body, [(b"X-\xff", b"1"), (b"X-Webhook-Signature", hmac.new(SECRET, body, hashlib.sha256).hexdigest().encode())]))
    check(status in (200, 400), f"invalid UTF-8 in a header name: {status}")


if __name__ == "__main__":
    sys.exit(main())
