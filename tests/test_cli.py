"""The command line: subcommands, --help, python -m, and flags from a YAML/JSON config file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ada_atsc.cli import COMMANDS, main

from .conftest import SEMEVAL


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_python_dash_m_is_the_same_command():
    result = subprocess.run([sys.executable, "-m", "ada_atsc", "prepare-semeval", "--help"],
                            capture_output=True, text=True, check=True)
    assert "--istrain" in result.stdout and "--config" in result.stdout


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_config_file_gives_defaults_and_command_line_wins(tmp_path, suffix):
    out = tmp_path / "out"
    config = {"files": [str(SEMEVAL / "Laptops_Test_Gold.xml")], "output_dir": str(tmp_path / "ignored"), "noconfl": True}
    path = tmp_path / f"cfg{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(config))
    else:
        import yaml

        path.write_text(yaml.safe_dump(config))
    assert main(["prepare-semeval", "--config", str(path), "--output_dir", str(out)]) == 0
    assert json.loads((out / "stats.json").read_text())["test"]["total"] == 638  # noconfl from the file
    assert not (tmp_path / "ignored").exists()


def test_unknown_config_key_is_an_error(tmp_path, capsys):
    path = tmp_path / "cfg.yaml"
    path.write_text("files: [a.xml]\noutput_dir: o\nbogus_flag: 3\n")
    assert main(["prepare-semeval", "--config", str(path)]) == 2
    assert "bogus_flag" in capsys.readouterr().err


def test_outputs_get_the_users_usual_permissions(tmp_path):
    import os

    from ada_atsc.core.fileio import staged_output_dir, write_json

    old = os.umask(0o022)
    try:
        write_json(tmp_path / "f.json", {"a": 1})
        with staged_output_dir(tmp_path / "d", overwrite=False) as staging:
            (staging / "x").write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "f.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755


def test_config_scalar_for_a_list_flag_and_no_abbreviations(tmp_path, capsys):
    out = tmp_path / "out"
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"files": str(SEMEVAL / "Laptops_Test_Gold.xml"), "output_dir": str(out)}))
    assert main(["prepare-semeval", "--config", str(path)]) == 0
    assert json.loads((out / "stats.json").read_text())["test"]["total"] == 654
    with pytest.raises(SystemExit):
        main(["prepare-semeval", "--file", "x.xml", "--output_dir", str(tmp_path / "o")])  # --files abbreviated
    assert main(["prepare-semeval", "--files", str(SEMEVAL / "Laptops_Test_Gold.xml"), "--output_dir",
                 str(tmp_path / "u"), "--upsample", "0.4", "0.3", "0.3"]) == 2
    assert "add --istrain" in capsys.readouterr().err


def test_config_keys_may_use_any_spelling_of_a_flag(tmp_path):
    out = tmp_path / "out"
    args = ["prepare-semeval", "--files", str(SEMEVAL / "Laptops_Test_Gold.xml"), "--output_dir", str(out)]
    assert main(args) == 0
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"overwrite": True}))  # the alias of --overwrite_output_dir
    assert main([*args, "--config", str(path)]) == 0


def test_shared_flags_are_one_flag_in_every_command():
    from ada_atsc.cli import build_parser
    from ada_atsc.commands.arguments import OVERWRITE_HELP

    for name in COMMANDS:
        _, parser = build_parser(name)
        by_option = {option: action for action in parser._actions for option in action.option_strings}
        if "--no_progress" in by_option or "--disable_tqdm" in by_option:
            assert by_option["--no_progress"] is by_option["--disable_tqdm"], name
            assert by_option["--no_progress"].dest == "no_progress", name
        if "--overwrite_output_dir" in by_option:
            overwrite = by_option["--overwrite_output_dir"]
            assert overwrite is by_option["--overwrite"] and overwrite.help == OVERWRITE_HELP, name
        if "--seed" in by_option:
            assert by_option["--seed"].type is int, name


def test_only_the_command_layer_uses_argparse():
    import re

    from .conftest import REPO

    package = REPO / "src" / "ada_atsc"
    uses = re.compile(r"^\s*(import|from) argparse\b", re.MULTILINE)
    offenders = [str(path.relative_to(package)) for path in package.rglob("*.py")
                 if path.parent.name != "commands" and path.name not in ("cli.py", "demo.py")  # the top layer
                 and uses.search(path.read_text(encoding="utf-8"))]
    assert not offenders, f"argparse outside ada_atsc.commands: {offenders}"
