#!/usr/bin/env python3
"""xsig from Python through ctypes, beside CPython's own signal handler.

CPython installs its C-level handler for SIGUSR1 when the program calls
signal.signal(). xsig_watch() then finds that handler, saves it and chains to
it: one real SIGUSR1 (os.kill to ourselves) reaches both the xsig watch and
the Python handler. xsig_shutdown() puts CPython's handler back, so a SIGUSR1
after it still reaches the Python handler and no longer reaches xsig.

usage: ctypes_chain.py [LIBXSIG]   (the shared library; default: libxsig.so.0
from the loader's path). Exits 0 only when all of that happened.
"""
import ctypes
import os
import signal
import sys
import time

if len(sys.argv) > 1 and sys.argv[1] in ("--help", "-h"):
    print(__doc__.strip().split("\n\n")[-1])
    sys.exit(0)
if len(sys.argv) > 2:
    sys.stderr.write("usage: ctypes_chain.py [LIBXSIG]\n")
    sys.exit(2)

lib = ctypes.CDLL(sys.argv[1] if len(sys.argv) > 1 else "libxsig.so.0")


class Event(ctypes.Structure):
    """xsig_event_t, field for field (docs/ABI.md: it never changes size)."""

    _fields_ = [
        ("signum", ctypes.c_int),
        ("count", ctypes.c_uint32),
        ("sender_pid", ctypes.c_int64),
        ("source", ctypes.c_int),
        ("native", ctypes.c_uint32),
    ]


CALLBACK = ctypes.CFUNCTYPE(None, ctypes.POINTER(Event), ctypes.c_void_p)
lib.xsig_version.restype = ctypes.c_char_p
lib.xsig_strerror.restype = ctypes.c_char_p
lib.xsig_watch.argtypes = [ctypes.c_void_p, ctypes.c_int, CALLBACK, ctypes.c_void_p,
                           ctypes.c_uint, ctypes.c_void_p]
lib.xsig_wait.argtypes = [ctypes.c_void_p, ctypes.c_int]
XSIG_DISP_DEFAULT, XSIG_DISP_IGNORED, XSIG_DISP_XSIG, XSIG_DISP_OTHER = range(4)

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        sys.stderr.write("ctypes_chain: FAILED: %s\n" % what)


python_seen = []
xsig_seen = []


def python_handler(signum, frame):
    python_seen.append(signum)


@CALLBACK
def on_xsig(ev, user):
    xsig_seen.append((ev.contents.signum, ev.contents.count, ev.contents.sender_pid))


def wait_for(cond, seconds=20.0):
    """Until cond() holds; the Python handler runs between bytecodes here."""
    end = time.monotonic() + seconds
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)
    return cond()


signal.signal(signal.SIGUSR1, python_handler)
check(lib.xsig_init() == 0, "xsig_init")
check(lib.xsig_disposition(signal.SIGUSR1) == XSIG_DISP_OTHER, "CPython's handler is installed")
rc = lib.xsig_watch(None, signal.SIGUSR1, on_xsig, None, 0, None)
check(rc == 0, "xsig_watch: %s" % lib.xsig_strerror(rc).decode())
check(lib.xsig_disposition(signal.SIGUSR1) == XSIG_DISP_XSIG, "xsig's handler is installed")

# One real signal; xsig counts it and chains to CPython's C handler, which
# marks it for the Python handler.
os.kill(os.getpid(), signal.SIGUSR1)
check(lib.xsig_wait(None, 20000) == 1, "xsig_wait ran the watch")
check(xsig_seen == [(signal.SIGUSR1, 1, os.getpid())], "xsig saw %r" % xsig_seen)
check(wait_for(lambda: python_seen == [signal.SIGUSR1]), "the Python handler saw %r" % python_seen)

# xsig_shutdown gives the signal back to CPython: the next one reaches
# Python's handler only.
lib.xsig_shutdown()
check(signal.getsignal(signal.SIGUSR1) is python_handler, "signal.getsignal is the Python handler")
os.kill(os.getpid(), signal.SIGUSR1)
check(wait_for(lambda: len(python_seen) == 2), "after xsig_shutdown the Python handler saw %r" % python_seen)
check(len(xsig_seen) == 1, "xsig saw nothing after xsig_shutdown")
# And CPython's C handler is what is installed: xsig knows none of its own.
check(lib.xsig_disposition(signal.SIGUSR1) == XSIG_DISP_OTHER, "CPython's handler is back")
signal.signal(signal.SIGUSR1, signal.SIG_DFL)
check(lib.xsig_disposition(signal.SIGUSR1) == XSIG_DISP_DEFAULT, "SIG_DFL is back")

print("ctypes_chain: xsig %s; xsig saw %d, Python %d SIGUSR1" %
      (lib.xsig_version().decode(), len(xsig_seen), len(python_seen)))
print("ctypes_chain: FAILED" if failures else "ctypes_chain: ok")
sys.exit(1 if failures else 0)
