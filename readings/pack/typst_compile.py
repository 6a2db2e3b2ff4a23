"""Compile the pack's Typst template in a process of its own (run as a script by `typesetting.typeset_pdf`).

Reads one JSON request on stdin, `{"template", "root", "fonts": [...], "inputs": {...}}`,
and writes the PDF to stdout; on a Typst error it writes the error to stderr and exits 1.
It imports nothing but the standard library and the typst wheel (not Django, not the app), so
its memory is Typst's alone, all of it returned when it exits, and a compile that runs too
long can be killed without touching the worker that asked for it.
"""

import json
import sys


def main() -> int:
    request = json.load(sys.stdin.buffer)
    import typst

    try:
        pdf = typst.compile(
            request["template"],
            root=request["root"],
            font_paths=request["fonts"],
            ignore_system_fonts=True,
            sys_inputs=request["inputs"],
            # Untagged, as the PDF always was: tags make the file four times larger and cost ~10 MB
            # while compiling; the printable HTML and the EPUB are the accessible formats.
            pdf_tags=False,
        )
    except typst.TypstError as error:
        sys.stderr.write(f"{error.message}\n{error.diagnostic}\n")
        return 1
    sys.stdout.buffer.write(pdf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
