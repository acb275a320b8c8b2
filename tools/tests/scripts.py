"""The tools that are scripts (a name with a dash, no .py), loaded as
modules for the host tests of their functions."""
import importlib.machinery
import importlib.util
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent.parent


def load_script(name):
    """tools/NAME as a module called NAME with '-' made '_'."""
    module_name = name.replace("-", "_")
    loader = importlib.machinery.SourceFileLoader(module_name, str(TOP / "tools" / name))
    spec = importlib.util.spec_from_loader(module_name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
