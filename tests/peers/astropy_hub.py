#!/usr/bin/python3
"""astropy's SAMPHubServer with a private lockfile, for tests/_hubs.ts.

    SAMP_HUB=std-lockurl:file:///abs/dir/hub.samp astropy_hub.py /abs/dir/hub.samp

It listens on 127.0.0.1 only (Standard Profile; no Web Profile, so nothing
on port 21012) and never probes the internet: with ``conf.use_internet``
left on, SAMPHubServer fetches google.com and, if that works, advertises the
machine's fully qualified host name instead of 127.0.0.1.

It prints one JSON line ``{"event": "ready", "url": ..., "lockfile": ...}``
on stdout once the hub is up, then runs until its stdin closes, SIGTERM or
SIGINT; then it stops the hub (which sends samp.hub.event.shutdown and
removes the lockfile) and exits 0. A watchdog (ASTROPY_HUB_WATCHDOG seconds,
default 600) makes it exit 3 if nobody stops it.

astropy's create_lock_file takes SAMP_HUB over the lockfile argument, and
cleans dead lockfiles in $HOME/.samp and $HOME/.samp-1: so SAMP_HUB must name
the same private file, and HOME must be a private directory. Both are
checked before anything starts.
"""

import json
import os
import signal
import sys
import threading

WATCHDOG_SECONDS = int(os.environ.get("ASTROPY_HUB_WATCHDOG", "600"))


def _watchdog(signum, frame):
    sys.stderr.write("astropy_hub.py: watchdog expired\n")
    sys.stderr.flush()
    os._exit(3)


signal.signal(signal.SIGALRM, _watchdog)
signal.alarm(WATCHDOG_SECONDS)

from astropy.samp import SAMPHubServer, conf  # noqa: E402

conf.use_internet = False


def main():
    if len(sys.argv) != 2 or not os.path.isabs(sys.argv[1]):
        sys.stderr.write("usage: astropy_hub.py /absolute/path/to/lockfile\n")
        return 2
    lockfile = sys.argv[1]
    expected = "std-lockurl:file://" + lockfile
    samp_hub = os.environ.get("SAMP_HUB", "")
    if samp_hub not in (expected, "std-lockurl:file://localhost" + lockfile):
        sys.stderr.write(f"astropy_hub.py: SAMP_HUB must be {expected}, not {samp_hub!r}\n")
        return 2
    home = os.path.realpath(os.path.expanduser("~"))
    if not os.path.realpath(lockfile).startswith(home + os.sep):
        sys.stderr.write(f"astropy_hub.py: HOME ({home}) must be the lockfile's private dir\n")
        return 2

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            stop.set()

    hub = SAMPHubServer(
        addr="127.0.0.1",
        lockfile=lockfile,
        web_profile=False,
        label="sampkit test hub (astropy)",
    )
    hub.start(wait=False)
    try:
        if not hub.is_running or not hub._lockfile:
            # create_lock_file returns False when a live hub owns the lockfile.
            sys.stderr.write("astropy_hub.py: the hub did not start or wrote no lockfile\n")
            return 1
        print(json.dumps({"event": "ready", "url": hub._url, "lockfile": hub._lockfile}),
              flush=True)
        threading.Thread(target=watch_stdin, daemon=True).start()
        while not stop.wait(0.5):
            pass
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
