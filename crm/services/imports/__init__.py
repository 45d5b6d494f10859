"""Importing a legacy customer list, in sets: every row is read and cleaned in Python once, COPYed
into ImportRow, and from there the preview, the commit and the undo are a handful of SQL statements
per batch, never one per row. One module per step of an import's life:

    upload      import_upload: the file is kept, its sheets listed, the header found and the columns mapped
    configure   import_configure, import_mapping_save, import_reopen: the user's sheet, header and mapping
    check       import_request_preview, import_preview (worker): read, clean, stage, find duplicates, a
                verdict for every row (cleaning: one row; matching: the duplicates, in sets)
    commit      import_request_commit, import_commit (worker): write the batch in one transaction, by the
                chosen duplicate policy; import_search_fill (worker) after it
    cancel      import_cancel: drop a batch, or roll back a running commit
    undo        import_request_undo, import_undo (worker): remove what the batch created, restore what it
                changed
    report      the preview sample, the error report, import_files_expire (beat)
    common      what several steps share (access checks, limits, progress_of)

The names below are the service functions views, tasks and scripts call; they may equally be
imported from their step's module.
"""
from ...imports.read import ImportFileError
from .cancel import import_cancel
from .check import import_preview, import_request_preview
from .cleaning import _shown  # noqa: F401 (crm/views/imports.py shows the sheet's raw cells with it)
from .commit import import_commit, import_request_commit, import_search_fill
from .common import progress_of
from .configure import import_configure, import_mapping_save, import_reopen
from .report import import_files_expire
from .undo import import_request_undo, import_undo
from .upload import import_upload

__all__ = [
    "ImportFileError", "import_cancel", "import_commit", "import_configure", "import_files_expire",
    "import_mapping_save", "import_preview", "import_reopen", "import_request_commit", "import_request_preview",
    "import_request_undo", "import_search_fill", "import_undo", "import_upload", "progress_of",
]
