"""Run inside a service image (`python -c <this file's text> <roots...>`); prints facts about the image as JSON.

Standalone on purpose: it runs under the image's own interpreter, where nothing of the test suite is importable.
"""

import importlib.util
import json
import os
import shutil
import sys

BUILD_TOOLS = ("gcc", "cc", "c++", "g++", "clang", "make", "ld", "as")
PACKAGING_TOOLS = ("pip", "setuptools", "wheel")
# A pyc's flags word (bytes 4-8): bit 0 = hash-based, bit 1 = check the source. 0b01: never re-validated, so a
# read-only filesystem and copied mtimes cannot make Python recompile it in memory at every start.
UNCHECKED_HASH_PYC = 0b01


def paths(roots):
    for root in roots:
        yield root
        for directory, subdirectories, files in os.walk(root):
            for name in subdirectories + files:
                yield os.path.join(directory, name)


def bytecode_problems(roots):
    problems = []
    for path in paths(roots):
        if not path.endswith(".py") or os.path.islink(path):
            continue
        cached = importlib.util.cache_from_source(path)
        if not os.path.exists(cached):
            problems.append(f"{path}: no {os.path.basename(cached)}")
            continue
        with open(cached, "rb") as pyc:
            flags = int.from_bytes(pyc.read(8)[4:8], "little")
        if flags != UNCHECKED_HASH_PYC:
            problems.append(f"{path}: pyc flags {flags:#04b}, not unchecked-hash")
    return problems


def main(roots):
    every_path = list(paths(roots))
    pip_cache = os.path.join(os.path.expanduser("~"), ".cache")
    facts = {
        "uid": os.getuid(),
        "not_owned_by_root": [p for p in every_path if (os.lstat(p).st_uid, os.lstat(p).st_gid) != (0, 0)],
        "writable": [p for p in every_path if not os.path.islink(p) and os.access(p, os.W_OK)],
        "bytecode_problems": bytecode_problems(roots),
        "build_tools": {tool: shutil.which(tool) for tool in BUILD_TOOLS if shutil.which(tool)},
        "packaging_tools": [name for name in PACKAGING_TOOLS if importlib.util.find_spec(name) is not None],
        "venv_scripts": sorted(os.listdir(os.path.join(sys.prefix, "bin"))),
        "caches": [path for path in (pip_cache, "/root/.cache") if os.path.exists(path)] + sorted(
            os.path.join("/tmp", name) for name in os.listdir("/tmp")
        ),
        "venv": sys.prefix,
    }
    print(json.dumps(facts))


main(sys.argv[1:])
