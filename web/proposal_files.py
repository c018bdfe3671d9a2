"""Serving a proposal's PDF: as an attachment, never rendered in the site's origin."""

from __future__ import annotations

from flask import send_file

from challenges.proposal_models import Proposal
from web.ext import services


def send_proposal(proposal: Proposal):
    """The PDF as a download: ``application/pdf``, no sniffing, and a CSP that forbids
    scripts and sandboxes it, should a browser show it inline all the same."""
    response = send_file(
        services().blobs.path(proposal.sha256),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=proposal.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
