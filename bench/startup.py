#!/usr/bin/env python3
"""Start-up time and idle memory of `herald serve` (release build), with the repo's rules.yaml
and templates and a fresh SQLite file.

    python3 bench/startup.py BIN_DIR [RUNS]

Start-up: from exec to the first 200 on /healthz (polled every 2 ms), median of RUNS starts.
Idle RSS: resident memory 5 s after the last start, with the processor and dispatcher idle.
"""
import os, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {
    "COD_WEBHOOK_SECRET": "x", "WAKILNI_WEBHOOK_SECRET": "x", "ARMADA_APP_ID": "x", "ELEBNE_WEBHOOK_SECRET": "x",
    "STOREFRONT_API_KEY": "x", "MERCHANT_PHONE": "+22236000000",
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def healthz(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
    except OSError:
        return False
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
    finally:
        s.close()


def rss_mib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    bin_dir = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    times = []
    idle = None
    for run in range(runs):
        work = tempfile.mkdtemp(prefix="herald-startup-")
        port = free_port()
        started = time.monotonic()
        server = subprocess.Popen(
            [os.path.join(bin_dir, "herald"), "serve", "--rules", os.path.join(ROOT, "rules.yaml"), "--templates",
             os.path.join(ROOT, "templates"), "--db", os.path.join(work, "herald.sqlite"), "--port", str(port), "--log-level", "error"],
            env=dict(os.environ, **ENV), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not healthz(port):
                if server.poll() is not None or time.monotonic() - started > 30:
                    print("herald serve did not start")
                    return 1
                time.sleep(0.002)
            times.append((time.monotonic() - started) * 1000)
            if run == runs - 1:
                time.sleep(5)
                idle = rss_mib(server.pid, "VmRSS")
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"start-up (exec to first /healthz 200): median {statistics.median(times):.0f} ms over {runs} starts "
          f"({', '.join(f'{t:.0f}' for t in times)} ms)")
    print(f"idle RSS: {idle:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
