"""Static files under hashed URLs, cached for a year, and compressed text responses.

``static_url('style.css')`` is ``/static/style.css?v=<hash of its content>``: a browser
may keep that URL for a year (``immutable``), and a changed file gets a new URL, so a
release is seen at once. A request without the current hash is answered as before
(``no-cache``, revalidated by its ETag). Pages, styles, scripts and JSON are compressed
(Flask-Compress: zstd, brotli or gzip, as the browser accepts).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from flask import Flask, current_app, request, url_for
from flask_compress import Compress

YEAR = "public, max-age=31536000, immutable"
# Text worth compressing; downloads (CSV, archives) are sent as they are stored.
COMPRESSED = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
]

compress = Compress()


@functools.lru_cache(maxsize=64)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    """The content hash of a static file, computed again only when the file changes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def static_hash(filename: str) -> str | None:
    folder = current_app.static_folder
    if folder is None:
        return None
    path = Path(folder) / filename
    try:
        stat = path.stat()
    except OSError:
        return None
    return _digest(str(path), stat.st_mtime_ns, stat.st_size)


def static_url(filename: str) -> str:
    """The URL of a static file with its content hash (see the module's docstring)."""
    return url_for("static", filename=filename, v=static_hash(filename))


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED)
    # Registered by hand below, to leave partial (Range) responses as they are.
    app.config["COMPRESS_REGISTER"] = False
    compress.init_app(app)
    app.jinja_env.globals["static_url"] = static_url

    @app.after_request
    def _cache_and_compress(response):
        if request.endpoint == "static" and response.status_code == 200:
            filename = (request.view_args or {}).get("filename", "")
            version = request.args.get("v")
            if version and version == static_hash(filename):
                response.headers["Cache-Control"] = YEAR
        if response.status_code == 206 or "Content-Range" in response.headers:
            return response
        return compress.after_request(response)
