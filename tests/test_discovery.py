"""A broken method folder is reported and does not break the other methods."""
import subprocess
import sys


def test_broken_method_folder_is_isolated(tmp_path):
    methods = tmp_path / "methods"
    (methods / "broken").mkdir(parents=True)
    (methods / "broken" / "__init__.py").write_text("raise ImportError('no module named nonexistent_dep')\n")
    code = ("import sys; from srbench.methods import discover_methods, BROKEN_METHODS; "
            "reg = discover_methods(); print(sorted(reg.names())); print(BROKEN_METHODS)")
    env = {"SRBENCH_METHODS_DIR": str(methods), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "['bicubic']" in result.stdout
    assert "no module named nonexistent_dep" in result.stdout
    warning_lines = [l for l in result.stderr.splitlines() if "failed to import" in l]
    assert len(warning_lines) == 1 and "broken" in warning_lines[0]


def test_yaml_only_method_folder_is_registered(tmp_path):
    methods = tmp_path / "methods"
    (methods / "my_rrdb").mkdir(parents=True)
    (methods / "my_rrdb" / "method.yaml").write_text(
        "name: my-rrdb\narch: RRDBNet\nweights: missing.pth\nscales: [4]\n")
    code = ("from srbench.methods import discover_methods; from srbench.errors import Unavailable\n"
            "reg = discover_methods(); m = reg.create('my-rrdb')\n"
            "try:\n    m.identity(4)\nexcept Unavailable as e:\n    print('skipped:', e)\n")
    env = {"SRBENCH_METHODS_DIR": str(methods), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "skipped:" in result.stdout and "missing.pth" in result.stdout
