"""The words of the refusals of uploads (image archives, code bundles), per code,
of a container that could not start, and of an output folder no reader may meet.

A refusal carries a ``code`` and ``params``; its ``str()`` is the English. The
templates are msgids with ``%(name)s`` placeholders (Babel extracts the ``N_``
calls), so the layers above can show a refusal in the reader's language. A
parameter may itself be a message (``{"code": ..., "params": ...}``), such as the
hint on how to make a good upload.
"""

from __future__ import annotations


def N_(text: str) -> str:  # the name Babel extracts by default
    """Marks a msgid for extraction; translated where it is shown."""
    return text


def message(code: str, **params: object) -> dict:
    return {"code": code, "params": params}


HOW_TO_SAVE = message("archive.how_to_save")
HOW_TO_ZIP = message("bundle.how_to_zip")

NOT_STARTED = message("sandbox.not_started")

MESSAGES: dict[str, str] = {
    # A run whose container could not start (sandboxes.runner)
    "sandbox.not_started": N_(
        "Docker could not start the container; check that /input, /output, /code and /tmp "
        "are not files or links in the image."
    ),
    # What a run left in its output folder (sandboxes.outputs)
    "output.link": N_(
        'Your output holds a symbolic link, "%(path)s"; write only regular files and '
        "folders to /output."
    ),
    "output.special": N_(
        'Your output holds "%(path)s", which is not a regular file or folder (pipes, '
        "sockets and devices are refused); write only regular files and folders to /output."
    ),
    "output.too_many_files": N_(
        "Your output holds more than %(limit)s files and folders; write fewer, larger files."
    ),
    "output.too_deep": N_(
        'Your output holds "%(path)s", more than %(limit)s folders deep; use fewer levels '
        "of folders."
    ),
    "output.bad_name": N_(
        'Your output holds a file or folder named "%(path)s": names must be UTF-8 text of '
        "at most %(limit)s bytes, without control characters or backslashes. Rename it."
    ),
    "output.unreadable_folder": N_(
        'The folder "%(path)s" in your output cannot be read; leave your folders readable.'
    ),
    # Image archives (sandboxes.archive)
    "archive.how_to_save": N_("make it with `docker save IMAGE -o image.tar`"),
    "archive.compressed": N_(
        "The image archive is compressed (%(format)s). Upload the plain tar that "
        "`docker save IMAGE -o image.tar` writes, without compressing it."
    ),
    "archive.not_archive": N_("The upload is not a Docker image archive: %(hint)s."),
    "archive.no_manifest": N_(
        "The upload is not a Docker image archive (no manifest.json): %(hint)s."
    ),
    "archive.too_large": N_(
        "The image archive is %(size_mib)s MiB; the limit is %(limit_mib)s MiB. Make the "
        "image smaller (a slim base, fewer files) and save it again."
    ),
    "archive.unpacks_too_large": N_(
        "The image archive unpacks to more than %(limit_mib)s MiB. Make the image smaller "
        "and save it again."
    ),
    "archive.damaged": N_("The image archive is damaged: %(hint)s."),
    "archive.other_image": N_(
        "Docker loaded a different image than the archive describes: %(hint)s and upload it again."
    ),
    "archive.not_loaded": N_(
        "Docker could not load the image archive: %(hint)s and upload it again."
    ),
    "archive.unsafe_name": N_("The archive has an unsafe file name %(name)r: %(hint)s."),
    "archive.dotdot_name": N_("The archive has a file name with '..' (%(name)r): %(hint)s."),
    "archive.special_member": N_(
        "The archive holds %(name)r, which is not a regular file or directory (links, "
        "devices and pipes are refused): %(hint)s."
    ),
    "archive.too_many_members": N_(
        "The archive has more than %(limit)s files; a `docker save` archive has a few per "
        "layer: %(hint)s."
    ),
    "archive.twice": N_("The archive holds %(name)r twice: %(hint)s."),
    "archive.bad_json": N_("%(name)s in the archive is not valid JSON: %(hint)s."),
    "archive.not_small_file": N_("%(name)s in the archive is not a small regular file: %(hint)s."),
    "archive.images": N_(
        "The archive holds %(count)s images; it must hold exactly one. Save a single "
        "image: `docker save IMAGE -o image.tar`."
    ),
    "archive.images_unknown": N_(
        "The archive holds an unknown number of images; it must hold exactly one. Save a "
        "single image: `docker save IMAGE -o image.tar`."
    ),
    "archive.no_layers": N_("manifest.json in the archive lists no layers: %(hint)s."),
    "archive.too_many_layers": N_(
        "The image has %(count)s layers; the limit is %(limit)s. Use fewer build steps "
        "(join RUN lines, or copy the result into a fresh stage)."
    ),
    "archive.missing_layer": N_("A layer listed in manifest.json is missing (%(name)s): %(hint)s."),
    "archive.link": N_("The archive holds a link %(name)r; links are refused: %(hint)s."),
    "archive.no_config": N_("The archive has no image config: %(hint)s."),
    "archive.config_digest": N_(
        "The image config in the archive does not match its digest; the archive is "
        "damaged or edited: %(hint)s."
    ),
    "archive.config_not_object": N_("The image config is not a JSON object: %(hint)s."),
    "archive.config_malformed": N_("The image config is malformed: %(hint)s."),
    "archive.volumes": N_(
        "The image declares VOLUME %(volumes)s; volumes are not allowed. Remove the VOLUME "
        "lines from the Dockerfile (write results to /output)."
    ),
    "archive.no_command": N_(
        "The image has no ENTRYPOINT or CMD, so there is nothing to run. Add e.g. "
        '`CMD ["python", "/app/main.py"]` to the Dockerfile.'
    ),
    "archive.layers_disagree": N_(
        "The image config and manifest.json disagree on the layers: %(hint)s."
    ),
    "archive.platform": N_(
        "The image is built for %(got)s; the evaluator runs linux/%(want)s. Build it with "
        "`docker build --platform linux/%(want)s`."
    ),
    # Code bundles (sandboxes.code_bundle)
    "bundle.how_to_zip": N_(
        "zip the folder's contents, e.g. `cd my-solution && zip -r ../bundle.zip .`"
    ),
    "bundle.too_many_entries": N_(
        "The bundle has more than %(count)s files and folders; the limit is %(limit)s "
        "files. Leave out data sets, virtual environments and caches."
    ),
    "bundle.too_many_files": N_(
        "The bundle has %(count)s files; the limit is %(limit)s files. Leave out data "
        "sets, virtual environments and caches."
    ),
    "bundle.too_large": N_(
        "The bundle unpacks to %(size_mib)s MiB; the limit is %(limit_mib)s MiB. Leave out "
        "data sets, virtual environments and caches."
    ),
    "bundle.larger_than_said": N_("%(name)s is larger than the zip says; zip it again."),
    "bundle.damaged": N_("The zip file is damaged: %(hint)s."),
    "bundle.not_zip": N_("The upload is not a zip file: %(hint)s."),
    "bundle.twice": N_("The bundle holds %(name)r twice; zip it again: %(hint)s."),
    "bundle.unsafe_name": N_("The bundle has an unsafe file name %(name)r: %(hint)s."),
    "bundle.encrypted": N_("%(name)s is encrypted; upload a zip without a password."),
    "bundle.symlink": N_(
        "%(name)s in the bundle is a symbolic link; only files and folders are allowed. "
        "Copy the real file into the folder and zip it again."
    ),
    "bundle.special": N_(
        "%(name)s in the bundle is not a regular file; only files and folders are allowed. "
        "Copy the real file into the folder and zip it again."
    ),
    "bundle.nested_main": N_(
        "main.py must be at the top of the zip, but it is at %(name)s: %(hint)s."
    ),
    "bundle.no_main": N_("The bundle has no main.py at its top; add one and zip again: %(hint)s."),
    "bundle.ratio": N_(
        "The bundle compresses more than %(limit)s to 1, which looks like a zip bomb. "
        "Leave out large generated or padded files."
    ),
    "bundle.ratio_file": N_(
        "%(name)s compresses more than %(limit)s to 1, which looks like a zip bomb. Leave "
        "out large generated or padded files."
    ),
    "bundle.file_and_folder": N_("%(name)s is both a file and a folder in the bundle."),
}


def english(code: str, params: dict) -> str:
    values = {
        name: english(value["code"], value["params"]) if isinstance(value, dict) else value
        for name, value in params.items()
    }
    return MESSAGES[code] % values


class Refusal(ValueError):
    """An upload that is not acceptable: ``code`` and ``params`` say why (see MESSAGES);
    ``str()`` is the English, for the participant."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(english(code, params))
