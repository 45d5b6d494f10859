"""Running a few pieces of one job at once on the machine's cores: `run_forked(f, g, ...)` calls f
here and each other function in a child process forked from this one, and returns their results in
order. For CPU-bound Python (cleaning the rows of an import), where threads would share one core.

os.fork is used directly (not multiprocessing), so it also works inside a Celery prefork worker,
whose processes multiprocessing refuses to let have children. The database connections are closed
before the fork, so every process opens its own; a child that finds its parent gone stops
(`parent_gone`). Results and exceptions travel back pickled.
"""
import os
import pickle
import threading

from django.db import connections


class ChildFailed(RuntimeError):
    """A child process died or its failure could not be sent back."""


def run_forked(*functions):
    """[functions[0](), functions[1](), ...], the first run here and the others in forked children.
    The first exception raised by any of them (in order) is raised here, after all have finished."""
    if connections_in_transaction():
        raise RuntimeError("run_forked needs its caller outside a transaction: the children cannot see it")
    connections.close_all()
    children = []
    parent = os.getpid()
    for function in functions[1:]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read)
            _child(function, write, parent)
        os.close(write)
        children.append((pid, read))
    outcomes = []
    try:
        outcomes.append(("ok", functions[0]()))
    except Exception as exc:  # noqa: BLE001 - reported after the children are collected
        outcomes.append(("error", exc))
    finally:
        for pid, read in children:
            with os.fdopen(read, "rb") as pipe:
                payload = pipe.read()
            _pid, status = os.waitpid(pid, 0)
            outcomes.append(_outcome(payload, status))
    for kind, value in outcomes:
        if kind == "error":
            raise value
    return [value for _kind, value in outcomes]


def connections_in_transaction():
    return any(conn.in_atomic_block for conn in connections.all(initialized_only=True))


def can_fork():
    """Whether this process may split its work with run_forked: not inside a transaction (the
    children could not see it), and with no other thread running. A thread's open database
    connection would be inherited by the children, and the server dropped it when one of them
    ended (seen with the test server's thread); a Celery worker's pool process has one thread."""
    return not connections_in_transaction() and threading.active_count() == 1


_PARENT = None


def in_child():
    """True in a process run_forked started (which ends when its function returns)."""
    return _PARENT is not None


def parent_gone():
    """True in a child whose parent has died (it would be re-parented): stop, its work is void."""
    return _PARENT is not None and os.getppid() != _PARENT


def _child(function, write, parent):
    global _PARENT
    _PARENT = parent
    code = 0
    try:
        outcome = ("ok", function())
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        outcome, code = ("error", exc), 1
    try:
        payload = pickle.dumps(outcome)
    except Exception:  # noqa: BLE001 - an unpicklable result or exception
        payload = pickle.dumps(("error", ChildFailed(repr(outcome[1])[:2000])))
        code = 1
    try:
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
        connections.close_all()
    finally:
        os._exit(code)  # no atexit handlers, no Celery or test-runner clean-up of the parent's state


def _outcome(payload, status):
    if payload:
        try:
            return pickle.loads(payload)
        except Exception as exc:  # noqa: BLE001 - whatever broke the answer, the parent reports it
            return "error", ChildFailed(f"the child's answer could not be read: {exc}")
    return "error", ChildFailed(f"the child process ended without an answer (status {status})")
