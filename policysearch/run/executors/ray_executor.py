"""Evaluate batches on Ray actors: on this machine by default, on a Ray cluster with an address.

Each actor holds the job's problems (sent once) and evaluates a batch per call with
``Problem.evaluate_batch``; the driver keeps two batches queued per actor, so an actor starts
its next batch while the driver is still storing the last one's results. Actors ask for one
CPU each and are placed with Ray's ``SPREAD`` strategy, so ``workers`` actors go round the
nodes of a cluster (a test on a two-node cluster sees them on both).

Which Ray (``run.cluster`` has the rules): with an address (``--address``, the job's, or
``RAY_ADDRESS``) the executor connects to that cluster and ships the ``objectives`` package to
it (``runtime_env.py_modules``), so the cluster's nodes need only Ray, NumPy and PyYAML.
Without one, a private local Ray is started quietly with ``address="local"`` (never a cluster
some earlier ``ray start`` left behind; no dashboard, no usage report, workers' logs not
forwarded), listening on 127.0.0.1 only, and shut down at ``close()`` leaving no process
behind, even when Ctrl-C or SIGTERM lands in its start-up (``ray_local``). If Ray is already
initialised in this process (tests, notebooks, ``policysearch submit``'s entrypoint) that Ray
is used and left running.

A lost actor (its process or its whole node died) costs only the batches it held: their
outcomes carry the error, so the driver marks those trials FAIL and asks new ones. The actor is
replaced once, however many of its batches fail, and the replacement is placed by ``SPREAD``
again, which only considers live nodes.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from objectives import Problem
from policysearch import interrupts
from policysearch.errors import RunFailure
from policysearch.quantities import quantity
from policysearch.run import cluster
from policysearch.run.executors import ray_local, ray_startup
from policysearch.run.executors.base import (
    BaseExecutor,
    EvalTask,
    ExecutorOptions,
    Outcome,
)
from policysearch.run.executors.ray_worker import Evaluator

PLACE_TIMEOUT_S = 300.0
"""How long to wait for Ray to place a worker when none is placed (first start, shipping the
simulator to the nodes, or every node lost) before the run fails."""


class RayExecutor(BaseExecutor):
    """``options.workers`` Ray actors; see the module docstring.

    Each slot of the pool holds an actor; a slot is *placed* once its actor answered where it
    runs. Batches go round the placed slots only, so an actor that waits for a CPU (a node
    was lost and the cluster is full) holds no batch: the run goes on with fewer workers and
    the slot joins when Ray places its actor.
    """

    def __init__(self, problems: Mapping[str, Problem], options: ExecutorOptions) -> None:
        super().__init__(problems, options)
        began = time.perf_counter()
        target = (options.address or os.environ.get("RAY_ADDRESS") or "").strip()
        loaded = sys.modules.get("ray")
        if target in ("", "local") and (loaded is None or not loaded.is_initialized()):
            # a private Ray takes seconds to start: say so first (a cluster connection says
            # nothing before it succeeds, so that a refusal stays one line)
            note = ray_local.oversubscribed(options.workers)
            if note:
                print(f"policysearch: {note}", file=sys.stderr, flush=True)
            _say(options, f"starting Ray ({_workers(options.workers)}) ...")
        import ray  # imported here: Ray takes a second to import and serial runs need none

        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        self._started: set[int] = set()  # the processes of a private Ray (``ray_local``)
        self._actors: list[Any] = []
        self._placing: dict[int, Any] = {}  # slot -> ref of its actor's node id, until placed
        self.nodes: dict[int, str] = {}  # slot -> Ray node id of its placed actor
        self._node_addresses: dict[str, str] = {}  # Ray node id -> its address, as met
        self._cluster = cluster.cluster_address(options.address) if self._owns_ray else None
        self._next_actor = 0
        # (result ref, slot, the actor called, tasks)
        self._calls: deque[tuple[Any, int, Any, int]] = deque()
        self._private = False
        address = None
        if self._owns_ray:
            source = "--address" if options.address else "RAY_ADDRESS"
            address = cluster.cluster_address(options.address)
            self._started = _init_ray(ray, options.workers, address, source)
        try:  # an interrupt from here on still closes what was started
            self._actor_cls = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(Evaluator)
            self._problems_ref = ray.put(self.problems)
            for slot in range(options.workers):
                self._actors.append(None)
                self._replace(slot)
            with _sigterm_kept():
                self._await_placement(every=True)
        except BaseException:
            self.close()
            raise
        self._private = bool(self._owns_ray and not address)
        if self._owns_ray:
            took = time.perf_counter() - began
            if self._private:
                _say(options, f"Ray ready in {quantity(took, 's')}")
                ray_startup.record("start_s", took)
            else:
                _say(options, f"connected to the Ray cluster at {address} in {quantity(took, 's')}")

    def _replace(self, slot: int) -> None:
        old = self._actors[slot]
        if old is not None:
            self._ray.kill(old, no_restart=True)
        actor = self._actor_cls.remote(self._problems_ref)
        self._actors[slot] = actor
        self._placing[slot] = actor.node_id.remote()
        self.nodes.pop(slot, None)

    def _await_placement(self, *, every: bool = False) -> None:
        """Note the slots whose actor is placed.

        With ``every``, wait until all are placed, or until ``PLACE_TIMEOUT_S`` has passed
        with at least one placed; otherwise wait only while none is placed.

        Raises:
            RunFailure: no slot placed within ``PLACE_TIMEOUT_S``.
        """
        deadline = time.monotonic() + PLACE_TIMEOUT_S
        while self._placing:
            must_wait = every or not self.nodes
            slots = list(self._placing)
            refs = [self._placing[s] for s in slots]
            done, _ = self._ray.wait(
                refs,
                num_returns=1 if must_wait and not every else len(refs),
                timeout=max(0.0, deadline - time.monotonic()) if must_wait else 0.0,
            )
            done_ids = {ref.hex() for ref in done}
            for slot, ref in zip(slots, refs, strict=True):
                if ref.hex() in done_ids:
                    del self._placing[slot]
                    try:
                        self.nodes[slot] = self._ray.get(ref)
                    except self._ray.exceptions.RayError:
                        self._replace(slot)  # died before it was placed: try again
            if not must_wait or (self.nodes and not every):
                return
            if time.monotonic() >= deadline:
                if self.nodes:
                    return  # go on with the placed ones; the others join when placed
                raise RunFailure(
                    f"no worker could be placed on Ray within {PLACE_TIMEOUT_S:g} s: each "
                    f"wants 1 CPU and Ray has {cluster.free_cpus(self._ray)} free; "
                    "pass fewer --workers or add nodes"
                )

    @property
    def where(self) -> str:
        """``local Ray`` (a private one), or the cluster's address and the address of each node
        the placed workers are on (``Ray cluster 10.0.0.5:6379, 3 workers on 2 nodes:
        10.0.0.5, 10.0.0.6``; two nodes of one machine share its address)."""
        if self._owns_ray and self._cluster is None:
            return "local Ray"
        placed = set(self.nodes.values())
        if not placed <= self._node_addresses.keys():  # one ray.nodes() per node met
            self._node_addresses.update(
                (n["NodeID"], n.get("NodeManagerAddress", "?")) for n in self._ray.nodes()
            )
        addresses = sorted(self._node_addresses.get(n, n[:8]) for n in placed)
        name = f"Ray cluster {self._cluster}" if self._cluster else "Ray cluster"
        workers, count = len(self.nodes), len(placed)
        return (
            f"{name}, {workers} worker{'s' * (workers != 1)} on {count} "
            f"node{'s' * (count != 1)}: {', '.join(addresses)}"
        )

    @property
    def capacity(self) -> int:
        return 2 * self.options.workers * self.options.batch_size

    @property
    def parallelism(self) -> int:
        return self.options.workers

    def _start(self, tickets: list[int], tasks: list[EvalTask]) -> None:
        with _sigterm_kept():
            self._start_on_a_placed_actor(tasks)

    def _start_on_a_placed_actor(self, tasks: list[EvalTask]) -> None:
        self._await_placement()  # note newly placed slots; wait only if none is placed
        count = len(self._actors)
        slot = next(
            s for s in ((self._next_actor + i) % count for i in range(count)) if s in self.nodes
        )
        self._next_actor = (slot + 1) % count
        actor = self._actors[slot]
        ref = actor.evaluate.remote(tasks)
        self._calls.append((ref, slot, actor, len(tasks)))

    def _finish_oldest(self) -> list[Outcome]:
        ref, slot, actor, count = self._calls.popleft()
        errors = self._ray.exceptions
        try:
            with _sigterm_kept():
                return self._ray.get(ref)
        except (errors.RayActorError, errors.NodeDiedError, errors.ObjectLostError) as exc:
            # the worker or its node died: its batches are reported failed; replace it once
            # (its other queued batch fails too, and must not replace the replacement)
            if self._actors[slot] is actor:
                self._replace(slot)
            error = f"Ray worker died: {exc.__class__.__name__}"
        except errors.RayError as exc:
            error = f"Ray error: {str(exc).splitlines()[0]}"
        return [Outcome(error=error)] * count

    def actor_nodes(self) -> list[str]:
        """The Ray node id of each worker's actor (waits until every one is placed)."""
        self._await_placement(every=True)
        return [self.nodes[slot] for slot in range(len(self._actors))]

    def close(self) -> None:
        try:
            # killing an actor also drops the batches queued on it
            for actor in self._actors:
                if actor is not None:
                    self._ray.kill(actor)
        finally:
            self._actors.clear()
            self._placing.clear()
            self._calls.clear()
            if self._owns_ray:
                self._owns_ray = False
                began = time.perf_counter()
                ray_local.stop(self._ray, self._started)
                if self._private:
                    ray_startup.record("stop_s", time.perf_counter() - began)


def _say(options: ExecutorOptions, text: str) -> None:
    if options.progress is not None:
        print(f"policysearch: {text}", file=options.progress, flush=True)


def _workers(count: int) -> str:
    return "1 worker" if count == 1 else f"{count} workers"


@contextlib.contextmanager
def _sigterm_kept() -> Iterator[None]:
    """Ray's ``get`` and ``wait`` turn the ``Terminated`` of a SIGTERM into a plain
    ``KeyboardInterrupt``: turn it back (exit code 143, not 130)."""
    try:
        yield
    except KeyboardInterrupt as exc:
        raise interrupts.kept(exc) from None


def _init_ray(ray: Any, workers: int, address: str | None, source: str) -> set[int]:
    """Connect to ``address`` or start a private Ray; the processes a private one started."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    from ray._private import ray_constants

    # The driver's C++ core would install a crash handler that prints a C stack dump on
    # SIGTERM, a request to stop (``policysearch.interrupts`` makes it a clean interrupt). Ray
    # reads the switch when it is imported, hence the constant; workers keep their handler.
    ray_constants.RAY_DISABLE_FAILURE_SIGNAL_HANDLER = True
    if address:
        import objectives

        # a folder, not the module: Ray Client (ray://) cannot pickle a module
        shipped = str(Path(objectives.__file__).parent)
        try:
            cluster.connect(ray, address, {"py_modules": [shipped]}, source=source)
        except SystemExit as exc:  # Ray's SIGTERM handler, during ray.init
            if terminated := interrupts.from_exit(exc):
                raise terminated from None
            raise
        finally:
            interrupts.reassert()  # ray.init took SIGTERM over
        return set()
    return ray_local.start(ray, workers)
