"""Entry point for servers started by the tests: tokcom-serve with a lifetime cap.

The process ends by itself even if pytest dies: it asks the kernel for SIGTERM when its
parent exits (Linux PR_SET_PDEATHSIG) and arms an alarm whose default action ends it.
"""

import ctypes
import signal
import sys

LIFETIME_S = 1800  # a safety net: the fixtures stop their servers long before
PR_SET_PDEATHSIG = 1


def main() -> int:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the alarm alone bounds the lifetime
    signal.alarm(LIFETIME_S)

    from gnuradio.tokcom.service.serve import main as serve_main

    return serve_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
