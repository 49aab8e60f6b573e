"""Settings: env names, the token alias, and the README table kept in sync."""

from __future__ import annotations

from pathlib import Path

from ltxbot.settings import Settings
from ltxbot.settings_doc import settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_settings_table_matches_the_model():
    text = README.read_text()
    begin, end = "<!-- settings:begin -->\n", "\n<!-- settings:end -->"
    documented = text[text.index(begin) + len(begin) : text.index(end)]
    assert documented == settings_table(), "run `ltx-bot settings` and paste it into README.md"


def test_every_setting_is_documented():
    table = settings_table()
    for name, field in Settings.model_fields.items():
        assert f"`LTXBOT_{name.upper()}`" in table
        assert field.description, f"{name} has no description"


def test_env_vars_and_the_discord_token_alias(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def.ghi")
    monkeypatch.setenv("LTXBOT_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("LTXBOT_OWNER_IDS", "[1, 2]")
    settings = Settings()
    assert settings.discord_token.get_secret_value() == "abc.def.ghi"
    assert "abc" not in repr(settings)
    assert settings.db_path == tmp_path / "d" / "ltxbot.sqlite3"
    assert settings.owner_ids == [1, 2]


def test_dotenv_file_is_read(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LTXBOT_MAX_DURATION_S", raising=False)
    (tmp_path / ".env").write_text("LTXBOT_MAX_DURATION_S=4.5\nLTXBOT_DISCORD_TOKEN=x.y.z\n")
    settings = Settings()
    assert settings.max_duration_s == 4.5
    assert settings.discord_token.get_secret_value() == "x.y.z"


def test_every_path_is_absolute_once_built(monkeypatch, tmp_path):
    """ComfyUI's SaveVideo refuses a relative output folder: resolve at settings time."""
    monkeypatch.chdir(tmp_path)
    for name in ("LTXBOT_DATA_DIR", "LTXBOT_WORKFLOWS_DIR", "LTXBOT_COMFYUI_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().data_dir == tmp_path / "data"  # the default, from the cwd at start
    monkeypatch.setenv("LTXBOT_WORKFLOWS_DIR", "wf")
    monkeypatch.setenv("LTXBOT_COMFYUI_DIR", "../c")
    settings = Settings(data_dir="d/../e")
    assert settings.data_dir == tmp_path / "e"
    assert settings.workflows_dir == tmp_path / "wf"
    assert settings.comfyui_dir == tmp_path.parent / "c"
    assert settings.comfy_io_dir.is_absolute() and settings.inputs_dir.is_absolute()
