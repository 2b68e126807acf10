"""Only what pyproject.toml cannot say: ship static/ and the embedded default inside the package.

static/ and docs/ stay at the top of the repository (the README and the tests use that layout).
A wheel, however, installs only packages, so build_py copies them into revise/_bundled/ with
the same relative paths, and revise/settings.py reads from there when it exists. An editable
install and a checkout read the originals; nothing is duplicated in the repository.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# Copied into revise/_bundled/<same path>; MANIFEST.in puts the same files in an sdist.
BUNDLED = ["static", "docs/draft.docx", "docs/notice.json"]


class BuildPyWithBundle(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install runs from the checkout, which has them in place
        target = Path(self.build_lib) / "revise" / "_bundled"
        for name in BUNDLED:
            source = HERE / name
            files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
            for path in files:
                out = target / path.relative_to(HERE)
                self.mkpath(str(out.parent))
                self.copy_file(str(path), str(out))


setup(cmdclass={"build_py": BuildPyWithBundle})
