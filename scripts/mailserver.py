#!/usr/bin/env python3
"""A real IMAP server on loopback for the service desk's e-mail tests: Debian's Dovecot, configured under
.devdata/dovecot/ (plaintext login from a passwd file, one Maildir per user, 127.0.0.1 only; as root in a
tree other users cannot enter, under the temporary folder instead, since Dovecot's helpers and the mail
run as unprivileged users).

    python scripts/mailserver.py up       # write the configuration, start Dovecot unless it runs; print
                                          # `export CRM_TEST_IMAP_PORT=...` for a Makefile to source
    python scripts/mailserver.py status   # say whether it runs and where
    python scripts/mailserver.py stop     # stop it

`make mailserver` installs the package (dovecot-imapd) when /usr/sbin/dovecot is missing and runs `up`;
the tests' session fixture calls `up()` itself, so `pytest` alone starts it too. The port is chosen free
once and kept in the configuration; the passwords are known test passwords, and the server listens on
127.0.0.1 only. Several processes (pytest-xdist workers) may call `up()` at once: a file lock makes one
of them start it. Standard library only.
"""
import argparse
import fcntl
import hashlib
import os
import pwd
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _home():
    """.devdata/dovecot/, unless we are root in a tree the mail's and Dovecot's own users cannot enter
    (a clone under /root, say): then a folder of this tree's own under the system's temporary folder."""
    home = ROOT / ".devdata" / "dovecot"
    if os.geteuid() != 0 or all(os.stat(folder).st_mode & stat.S_IXOTH for folder in [ROOT, *ROOT.parents]):
        return home
    return Path(tempfile.gettempdir()) / f"crm-dovecot-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]}"


HOME = _home()
CONFIG = HOME / "dovecot.conf"
PASSWD = HOME / "passwd"
RUN = HOME / "run"
MAIL = HOME / "mail"
LOG = HOME / "dovecot.log"
LOCK = HOME / "lock"
DOVECOT = "/usr/sbin/dovecot"
HOST = "127.0.0.1"
# The mailboxes: the service desk's, and a customer's (where the desk's replies are delivered).
USERS = {"support": "support-test-password", "customer": "customer-test-password"}
WAIT_SECONDS = 30

TEMPLATE = """\
# Written by scripts/mailserver.py for the tests: loopback only, plaintext passwords. Not for real mail.
base_dir = {run}
state_dir = {run}/state
log_path = {log}
protocols = imap
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%n {passwd}
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


def say(message):
    print(f"[mailserver] {message}", file=sys.stderr, flush=True)


def _free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _mail_owner():
    """(uid, gid, internal user, its group, login user): as root, mail belongs to `nobody` and Dovecot's
    own users run its helpers (IMAP refuses uid 0); otherwise everything runs as the current user."""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        return nobody.pw_uid, nobody.pw_gid, "dovecot", "dovecot", "dovenull"
    me = pwd.getpwuid(os.geteuid())
    return me.pw_uid, me.pw_gid, me.pw_name, me.pw_name, me.pw_name


def configured_port():
    """The port written in the configuration, or None before `up` wrote one."""
    try:
        found = re.search(r"^\s*port = (\d+)$", CONFIG.read_text(), re.MULTILINE)
    except FileNotFoundError:
        return None
    return int(found.group(1)) if found else None


def _write_config(port):
    uid, gid, internal, internal_group, login = _mail_owner()
    for folder in (HOME, RUN, MAIL):
        folder.mkdir(parents=True, exist_ok=True)
    MAIL.chmod(0o755)
    lines = []
    for user, password in USERS.items():
        home = MAIL / user
        home.mkdir(exist_ok=True)
        os.chown(home, uid, gid)
        lines.append(f"{user}:{{PLAIN}}{password}:{uid}:{gid}::{home}::")
    PASSWD.write_text("\n".join(lines) + "\n")
    PASSWD.chmod(0o644)
    CONFIG.write_text(TEMPLATE.format(run=RUN, log=LOG, host=HOST, port=port, passwd=PASSWD, internal=internal,
                                      internal_group=internal_group, login=login))


def _master_pid():
    try:
        pid = int((RUN / "master.pid").read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def _answers(port):
    """Whether an IMAP server greets on the port (not just anything listening there)."""
    try:
        with socket.create_connection((HOST, port), timeout=2) as conn:
            return conn.recv(200).startswith(b"* OK")
    except OSError:
        return False


def _port_taken(port):
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return True
    return False


def running():
    """The port of our Dovecot when it runs and answers, else None."""
    port = configured_port()
    if port and _master_pid() and _answers(port):
        return port
    return None


def up():
    """Start Dovecot unless it runs (writing its configuration first); returns
    {"host", "port", "users": {name: password}}. Raises RuntimeError when Dovecot is not installed or
    does not start (the message says why)."""
    if not Path(DOVECOT).exists():
        raise RuntimeError(f"Dovecot is not installed ({DOVECOT} missing): run `make mailserver` "
                           "(apt-get install dovecot-imapd).")
    HOME.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        port = running()
        if port is None:
            port = _start()
    return {"host": HOST, "port": port, "users": dict(USERS)}


def _start():
    pid = _master_pid()
    if pid:  # running but not answering: start afresh
        _stop(pid)
    port = configured_port()
    if not port or _port_taken(port):
        port = _free_port()
    _write_config(port)
    say(f"starting Dovecot on {HOST}:{port} ({CONFIG})")
    # Its output to a file, not a pipe: the daemon it forks keeps the descriptors open.
    with open(HOME / "start.log", "w+") as output:
        result = subprocess.run([DOVECOT, "-c", str(CONFIG)], stdin=subprocess.DEVNULL, stdout=output,
                                stderr=subprocess.STDOUT)
        if result.returncode:
            output.seek(0)
            raise RuntimeError(f"Dovecot did not start: {output.read().strip()}")
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if _answers(port):
            return port
        time.sleep(0.1)
    raise RuntimeError(f"Dovecot did not answer on {HOST}:{port} within {WAIT_SECONDS} s; see {LOG}")


def _stop(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and _master_pid():
        time.sleep(0.1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "status", "stop"])
    command = parser.parse_args().command
    if command == "up":
        try:
            server = up()
        except RuntimeError as error:
            say(str(error))
            return 1
        say(f"Dovecot answers on {server['host']}:{server['port']}")
        print(f"export CRM_TEST_IMAP_PORT={server['port']}")
    elif command == "status":
        port = running()
        say(f"Dovecot answers on {HOST}:{port}" if port else "Dovecot is not running")
        return 0 if port else 3
    else:
        pid = _master_pid()
        if pid:
            _stop(pid)
            say("Dovecot stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
