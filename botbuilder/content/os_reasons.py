"""Why the operating system would not read (or write) a file, in words a manager reads.

`OSError.strerror` is the C library's English ("No such file or directory"),
so a Dutch page said "kan het bestand niet lezen: Permission denied". The
errors a bot folder or an upload meets are named here as marked `Phrase`s,
translated on the page like any other value of a problem; an errno not
listed keeps the system's own text.
"""

from __future__ import annotations

import errno

from botbuilder.errors import N_, Phrase

__all__ = ["os_reason"]

_REASONS = {
    errno.ENOENT: N_("it does not exist (any more)"),
    errno.EACCES: N_("the server is not allowed to open it (permission denied)"),
    errno.EPERM: N_("the server is not allowed to open it (permission denied)"),
    errno.EISDIR: N_("it is a folder, not a file"),
    errno.ENOTDIR: N_("a part of its path is a file, not a folder"),
    errno.ENOSPC: N_("the disk is full"),
    errno.EDQUOT: N_("the disk is full"),
    errno.EROFS: N_("the disk is read-only"),
    errno.ELOOP: N_("it is a symbolic link that leads back to itself"),
    errno.ENAMETOOLONG: N_("its name is too long"),
    errno.EIO: N_("the disk reported an input/output error"),
    errno.EMFILE: N_("the server has too many files open; try again"),
    errno.ENFILE: N_("the server has too many files open; try again"),
}


def os_reason(exc: OSError) -> str:
    """Why `exc` happened: a marked `Phrase` for a common errno, else the system's text."""
    reason = _REASONS.get(exc.errno or 0)
    if reason is not None:
        return Phrase(reason)
    return exc.strerror or str(exc) or type(exc).__name__
