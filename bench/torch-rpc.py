"""torch rpc between two processes, the RPC benchmark's torch peer.

Rank 0 (this process) calls a trivial function on rank 1 (a child process running this
script with --rank 1) over the TensorPipe backend, rendezvous on 127.0.0.1, torch's default
transports (--tcp: TCP on loopback only):
  - latency: rpc_sync, one call after another -> microseconds per call;
  - throughput: rpc_async with IN_FLIGHT calls issued, then torch.futures.wait_all -> calls/s.
Prints one JSON line on stdout, which bench/rpc-peers.ts parses. --quick: a few calls, to
check that it runs (its figures measure nothing).
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import torch
import torch.distributed.rpc as rpc


def add_one(x):
    return x + 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def options(port, tcp):
    """torch's defaults (what its users get: TensorPipe picks shared memory between two local
    processes), or with --tcp only its TCP transport ("uv") on loopback, as NATS goes."""
    if not tcp:
        return rpc.TensorPipeRpcBackendOptions(init_method=f"tcp://127.0.0.1:{port}")
    return rpc.TensorPipeRpcBackendOptions(
        init_method=f"tcp://127.0.0.1:{port}", _transports=["uv"], _channels=["basic"]
    )


def sequential(calls, start):
    """Microseconds per rpc_sync; checks every answer."""
    t0 = time.perf_counter()
    for i in range(start, start + calls):
        if rpc.rpc_sync("peer", add_one, args=(i,)) != i + 1:
            raise RuntimeError("rpc_sync: wrong answer")
    return (time.perf_counter() - t0) * 1e6 / calls


def in_flight(calls):
    """Calls per second with `calls` rpc_async in flight at once; checks the sum of the answers."""
    t0 = time.perf_counter()
    futs = [rpc.rpc_async("peer", add_one, args=(i,)) for i in range(calls)]
    values = torch.futures.wait_all(futs)
    seconds = time.perf_counter() - t0
    if sum(values) != calls * (calls + 1) // 2:
        raise RuntimeError("rpc_async: wrong answers")
    return calls / seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rank", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tcp", action="store_true")
    args = parser.parse_args()

    if args.rank == 1:
        rpc.init_rpc("peer", rank=1, world_size=2, rpc_backend_options=options(args.port, args.tcp))
        rpc.shutdown()  # waits until rank 0 has finished with it
        return

    port = free_port()
    peer = [sys.executable, os.path.abspath(__file__), "--rank", "1", "--port", str(port)]
    child = subprocess.Popen(peer + (["--tcp"] if args.tcp else []))
    try:
        rpc.init_rpc("caller", rank=0, world_size=2, rpc_backend_options=options(port, args.tcp))
        seq_calls, seq_rounds, flight, flight_rounds = (20, 1, 200, 1) if args.quick else (2000, 5, 20000, 3)
        sequential(seq_calls // 10, 0)  # warm-up
        in_flight(flight // 10)
        round_trip = [sequential(seq_calls, r * seq_calls) for r in range(seq_rounds)]
        per_second = [in_flight(flight) for _ in range(flight_rounds)]
        rpc.shutdown()
    finally:
        if child.wait(timeout=60) != 0:
            raise RuntimeError(f"rank 1 exited with code {child.returncode}")
    print(json.dumps({
        "torch": torch.__version__,
        "transport": "uv (TCP on loopback)" if args.tcp else "TensorPipe's default",
        "roundTripUs": statistics.median(round_trip),
        "perSecond": statistics.median(per_second),
        "roundTripUsRounds": round_trip,
        "perSecondRounds": per_second,
        "sequentialCalls": seq_calls,
        "inFlight": flight,
    }))


if __name__ == "__main__":
    main()
