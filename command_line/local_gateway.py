"""The stack's REST API on localhost: `python -m command_line.local_gateway CONFIG.json`, started by `local`.

It does what the stage does with a request, from the routes read out of the synthesized JSON (local_stack.py):
- a path outside `/<stage>`, or one no resource and method match, gets API Gateway's 403
  `{"message":"Missing Authentication Token"}`;
- a resource's exact path wins over a greedy `{proxy+}`; `ANY` matches every method;
- an HTTP_PROXY integration gets the request with the route prefix stripped (its URI with `{proxy}` filled in), the
  query string, the body and the headers, the Host header set to the URI's host, and X-Forwarded-For added;
- an integration that does not answer within its timeout is a 504 `{"message": "Endpoint request timed out"}`,
  one that cannot be reached a 500 `{"message": "Internal server error"}`.
What it does not do: TLS, the WAF, IAM authorization (AWS_IAM methods are served unsigned) and throttling.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from dataclasses import dataclass

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

# Hop-by-hop headers (RFC 9110 7.6.1) are the connection's own, never forwarded; nor are Host (the integration
# sets it) and Content-Length (the client library writes it for the body it sends).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade"}
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length"}
NOT_FOUND = {"message": "Missing Authentication Token"}


@dataclass(frozen=True)
class Target:
    path: str            # /orders/{proxy+}
    method: str
    worker: str
    port: int
    uri_path: str        # the integration URI's path: / or /{proxy}
    host: str
    timeout_ms: int

    @property
    def pattern(self) -> re.Pattern:
        parts = [re.escape(p) if not p.startswith("{") else ("(?P<proxy>.+)" if p.endswith("+}") else "[^/]+")
                 for p in self.path.strip("/").split("/") if p]
        return re.compile("^/" + "/".join(parts) + "$")


def match(targets: list[Target], path: str, method: str) -> tuple[Target, str] | None:
    """The target of a path below the stage (exact resources before greedy ones) and its `{proxy}` value, which
    keeps a trailing slash; `/orders/` is the resource `/orders` when no greedy one takes it."""
    for candidate in (path, path.rstrip("/") or "/"):
        for target in sorted(targets, key=lambda t: "{proxy+}" in t.path):
            found = target.pattern.match(candidate)
            if found and target.method in ("ANY", method):
                return target, found.groupdict().get("proxy") or ""
    return None


def forwarded(headers: CIMultiDictProxy) -> CIMultiDict:
    """Every header but the hop-by-hop ones, those the Connection header names among them, repeats kept."""
    named = {token.strip().lower() for value in headers.getall("Connection", []) for token in value.split(",")}
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in NOT_FORWARDED | named)


def below_stage(raw_path: str, stage: str) -> str | None:
    """The path below `/<stage>`, or None when the request is not for the stage."""
    prefix = f"/{stage}"
    if raw_path == prefix:
        return "/"
    return raw_path[len(prefix):] if raw_path.startswith(prefix + "/") else None


def application(stage: str, targets: list[Target], log=print) -> web.Application:
    session: dict[str, ClientSession] = {}

    async def startup(app):
        session["client"] = ClientSession(auto_decompress=False)

    async def cleanup(app):
        await session["client"].close()

    async def handle(request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        raw = request.raw_path.split("?", 1)[0]
        below = below_stage(raw, stage)
        found = match(targets, below, request.method) if below is not None else None
        if found is None:
            log(f"{request.method} {raw} -> 403 (no resource)")
            return web.json_response(NOT_FOUND, status=403)
        target, proxy = found
        path = target.uri_path.replace("{proxy}", proxy)
        query = request.rel_url.raw_query_string   # as sent: percent-encoding kept
        url = f"http://127.0.0.1:{target.port}{path}" + (f"?{query}" if query else "")
        headers = forwarded(request.headers)
        headers["Host"] = target.host
        chain = request.headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{chain}, {request.remote}" if chain else (request.remote or "")
        body = await request.read() if request.body_exists else None
        try:
            async with session["client"].request(
                    request.method, URL(url, encoded=True), headers=headers, data=body, allow_redirects=False,
                    timeout=ClientTimeout(total=target.timeout_ms / 1000)) as answer:
                response = web.Response(status=answer.status, body=await answer.read(),
                                        headers=forwarded(answer.headers))
        except asyncio.TimeoutError:
            response = web.json_response({"message": "Endpoint request timed out"}, status=504)
        except ClientError:
            response = web.json_response({"message": "Internal server error"}, status=500)
        log(f"{request.method} {raw} -> {target.worker} {path} {response.status} "
            f"({(time.monotonic() - started) * 1000:.0f} ms)")
        return response

    app = web.Application(client_max_size=10 * 1024 * 1024)   # API Gateway's payload limit: 10 MB
    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def main(argv: list[str]) -> None:
    config = json.loads(open(argv[0]).read())
    targets = [Target(**t) for t in config["targets"]]
    print(f"REST API stage {config['stage']} on http://127.0.0.1:{config['port']}/{config['stage']}", flush=True)
    web.run_app(application(config["stage"], targets, log=lambda line: print(line, flush=True)),
                host="127.0.0.1", port=config["port"], print=None, handle_signals=True)


if __name__ == "__main__":
    main(sys.argv[1:])
