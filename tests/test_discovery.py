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
