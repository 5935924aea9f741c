"""Exit statuses of the ``playground`` command, shared by the command line and the window it opens.

A bad ``--lesson`` or ``--panel`` is caught by the window's start-up, yet must end the way the
command line's own bad input does; the window may not import the command line (which sits above
it), so the number lives here, below both.
"""

#: anything the user can fix (a bad option, a missing or malformed file): one line on stderr
EXIT_BAD_INPUT = 2
