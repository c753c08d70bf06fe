"""A small closed-loop HTTP/1.1 load generator for the page benchmarks (loopback only).

`concurrency` keep-alive connections each send the next request as soon as the previous answer is
read, for `seconds` (and until at least `min_requests` answers); latencies are per request. It is
asyncio on raw sockets, so the client spends far less CPU per request than the Django pages it
measures; it shares the two cores with the server all the same, like any client on this machine.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0
    body_bytes: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
        return status, len(body)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        size = 0
        while True:
            chunk_size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(chunk_size + 2)
            size += chunk_size
            if chunk_size == 0:
                return status, size
    raise ValueError("a response without a length: cannot keep the connection")


async def _worker(host: str, port: int, request: bytes, deadline: float, min_requests: int, hard_deadline: float,
                  result: Result) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            now = time.perf_counter()
            if now >= hard_deadline or (now >= deadline and len(result.latencies) >= min_requests):
                return
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            try:
                status, size = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)  # the server closed it (worker recycled)
                continue
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            result.body_bytes += size
    finally:
        writer.close()


def build_request(host: str, port: int, path: str, cookies: dict[str, str] | None = None,
                  headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept-Encoding: gzip", "Connection: keep-alive"]
    if cookies:
        lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def run(host: str, port: int, requests: list[bytes], *, concurrency: int, seconds: float, min_requests: int = 20,
        max_seconds: float = 90.0) -> Result:
    """Load the server with `concurrency` connections; connection i sends requests[i % len(requests)]."""
    result = Result()

    async def main() -> None:
        started = time.perf_counter()
        deadline, hard = started + seconds, started + max_seconds
        await asyncio.gather(*(
            _worker(host, port, requests[i % len(requests)], deadline, min_requests, hard, result)
            for i in range(concurrency)
        ))
        result.elapsed = time.perf_counter() - started

    asyncio.run(main())
    return result
