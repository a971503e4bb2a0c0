#!/usr/bin/python3
"""An astropy.samp client driven by tests/interop_astropy_test.ts.

It connects to the hub named by SAMP_HUB (std-lockurl:file://...), declares
metadata, subscribes to ``test.echo`` (calls and notifications) and
``samp.hub.event.*``, then:

- writes one JSON object per line on stdout for everything it receives or
  does (``{"event": ...}``);
- reads one JSON command per line on stdin (``{"cmd": ...}``) and answers
  each with one event line.

Commands:
  {"cmd": "info"}                              -> "info"
  {"cmd": "ecall", "target", "mtype", "params", "timeout"}
                                                -> "ecall-result" (or "error")
  {"cmd": "notify_all", "mtype", "params"}     -> "notify_all-result"
  {"cmd": "disconnect"}                        -> "disconnected", then exit 0

It exits on its own after WATCHDOG_SECONDS (exit 3) so it can never hang a
test, and disconnects on end of input.
"""

import json
import os
import signal
import sys
import threading
import traceback

WATCHDOG_SECONDS = int(os.environ.get("ASTROPY_PEER_WATCHDOG", "90"))


def _watchdog(signum, frame):
    sys.stderr.write("astropy_client.py: watchdog expired\n")
    sys.stderr.flush()
    os._exit(3)


signal.signal(signal.SIGALRM, _watchdog)
signal.alarm(WATCHDOG_SECONDS)

from astropy.samp import SAMPHubProxy, SAMPIntegratedClient, conf  # noqa: E402

# Never probe the internet (astropy would fetch google.com to pick a host name).
conf.use_internet = False

_out_lock = threading.Lock()


def emit(event, **fields):
    line = json.dumps({"event": event, **fields}, sort_keys=True)
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def main():
    if not os.environ.get("SAMP_HUB", "").startswith("std-lockurl:file:"):
        emit("error", message="SAMP_HUB must point at a private lockfile")
        return 2

    client = SAMPIntegratedClient(
        name="astropy-peer",
        description="astropy.samp interop peer for the sampkit tests",
        metadata={"peer.lang": "python"},
        addr="127.0.0.1",
    )
    client.connect()

    def on_notification(private_key, sender_id, mtype, params, extra):
        emit("notification", sender=sender_id, mtype=mtype, params=params, extra=extra)

    def on_call(private_key, sender_id, msg_id, mtype, params, extra):
        emit("call", sender=sender_id, msg_id=msg_id, mtype=mtype, params=params, extra=extra)
        client.reply(
            msg_id,
            {
                "samp.status": "samp.ok",
                "samp.result": {"echo": params, "by": "astropy"},
            },
        )

    def on_hub_event(private_key, sender_id, mtype, params, extra):
        emit("hub-event", sender=sender_id, mtype=mtype, params=params)

    client.bind_receive_notification("test.echo", on_notification)
    client.bind_receive_call("test.echo", on_call)
    client.bind_receive_notification("samp.hub.event.*", on_hub_event)
    client.declare_metadata(
        {
            "samp.name": "astropy-peer",
            "samp.description.text": "astropy.samp interop peer for the sampkit tests",
            "peer.lang": "python",
        }
    )
    # astropy keeps the reg-info's samp.hub-id only in a private attribute.
    hub_id = client.client._hub_id
    emit("ready", id=client.get_public_id(), hub_id=hub_id)

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        name = cmd.get("cmd")
        try:
            if name == "info":
                registered = client.get_registered_clients()
                # A second, bare proxy to the same hub (found through SAMP_HUB).
                proxy = SAMPHubProxy()
                proxy.connect()
                try:
                    proxy.ping()
                    hub_metadata = proxy.get_metadata(client.get_private_key(), hub_id)
                    own_subscriptions = proxy.get_subscriptions(
                        client.get_private_key(), client.get_public_id()
                    )
                finally:
                    proxy.disconnect()
                emit(
                    "info",
                    hub_id=hub_id,
                    registered=registered,
                    hub_metadata=hub_metadata,
                    hub_subscriptions=client.get_subscriptions(hub_id),
                    own_metadata=client.get_metadata(client.get_public_id()),
                    own_subscriptions=own_subscriptions,
                    subscribed_echo=client.get_subscribed_clients("test.echo"),
                    lockfile_url=client.hub.lockfile.get("samp.hub.xmlrpc.url"),
                )
            elif name == "ecall":
                response = client.ecall_and_wait(
                    cmd["target"], cmd["mtype"], cmd.get("timeout", 10), **cmd["params"]
                )
                emit("ecall-result", response=response)
            elif name == "notify_all":
                ids = client.notify_all({"samp.mtype": cmd["mtype"], "samp.params": cmd["params"]})
                emit("notify_all-result", ids=ids)
            elif name == "disconnect":
                client.disconnect()
                emit("disconnected", connected=client.is_connected)
                return 0
            else:
                emit("error", message=f"unknown command {name!r}")
        except Exception as exc:  # report and carry on: the test decides
            emit("error", cmd=name, message=repr(exc), trace=traceback.format_exc())

    client.disconnect()
    emit("disconnected", connected=client.is_connected, reason="end of input")
    return 0


if __name__ == "__main__":
    sys.exit(main())
