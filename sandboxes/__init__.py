"""Run untrusted images and code bundles under hard limits; vet uploads first.

This package knows nothing of challenges or the database, and imports nothing
else of the project. Importing it connects to nothing.
"""

from sandboxes.archive import ArchiveError, ImageArchive, inspect_image_archive, load_image
from sandboxes.base import BASE_IMAGE, base_image_id, build_base_image
from sandboxes.cli import sandbox
from sandboxes.code_bundle import BundleInfo, CodeBundleError, check_bundle, extract_bundle
from sandboxes.docker_client import DEFAULT_DOCKER_HOST, connect
from sandboxes.outputs import OutputError, OutputSummary, check_output
from sandboxes.runner import Limits, RunResult, reap, run
from sandboxes.scratch import new_dir as new_scratch_dir
from sandboxes.scratch import remove_dir as remove_scratch_dir
from sandboxes.thin import Thinned, base_layers, thin_archive

__all__ = [
    "BASE_IMAGE",
    "DEFAULT_DOCKER_HOST",
    "ArchiveError",
    "BundleInfo",
    "CodeBundleError",
    "ImageArchive",
    "Limits",
    "OutputError",
    "OutputSummary",
    "RunResult",
    "Thinned",
    "base_image_id",
    "base_layers",
    "build_base_image",
    "check_bundle",
    "check_output",
    "connect",
    "extract_bundle",
    "inspect_image_archive",
    "load_image",
    "new_scratch_dir",
    "reap",
    "remove_scratch_dir",
    "run",
    "sandbox",
    "thin_archive",
]
