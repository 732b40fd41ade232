"""Language choice (:mod:`greenlink.i18n`): explicit > context (--lang, a request) >
GREENLINK_LANG > LC_ALL/LC_MESSAGES/LANG > en; per context, never a process global."""

from __future__ import annotations

import asyncio
import threading

import pytest
from typer.testing import CliRunner

from greenlink import i18n
from greenlink.cli.main import app
from greenlink.errors import Problem

LOCALE_VARS = ("GREENLINK_LANG", "LC_ALL", "LC_MESSAGES", "LANG")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in LOCALE_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


@pytest.mark.parametrize(("tag", "lang"), [
    ("zh", "zh-CN"), ("zh_CN.UTF-8", "zh-CN"), ("zh-Hans-CN", "zh-CN"), ("ZH-cn", "zh-CN"),
    ("en", "en"), ("en_GB.UTF-8", "en"), ("C", "en"), ("POSIX", "en"), ("C.UTF-8", "en"),
    ("fr_FR", None), ("de", None),
])
def test_normalize(tag: str, lang: str | None) -> None:
    assert i18n.normalize(tag) == lang


def test_order_of_choice(clean_env: pytest.MonkeyPatch) -> None:
    assert i18n.current_lang() == "en"
    clean_env.setenv("LANG", "zh_CN.UTF-8")
    assert i18n.current_lang() == "zh-CN"
    clean_env.setenv("LC_MESSAGES", "en_US.UTF-8")
    assert i18n.current_lang() == "en"
    clean_env.setenv("LC_ALL", "zh_CN.UTF-8")
    assert i18n.current_lang() == "zh-CN"
    clean_env.setenv("GREENLINK_LANG", "en")
    assert i18n.current_lang() == "en"
    clean_env.setenv("GREENLINK_LANG", "klingon")  # unknown: passed over
    assert i18n.current_lang() == "zh-CN"
    with i18n.use_lang("en"):
        assert i18n.current_lang() == "en"
        assert i18n.current_lang("zh-CN") == "zh-CN"  # explicit argument first
    with pytest.raises(ValueError, match="unknown language"):
        i18n.current_lang("xx")


def test_unsupported_locale_falls_back_to_english(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LANG", "fr_FR.UTF-8")
    assert i18n.current_lang() == "en"


def test_gettext_translates_and_falls_back() -> None:
    assert i18n.gettext("green share of consumption", "zh-CN") == "绿电消费占比"
    assert i18n.gettext("green share of consumption", "en") == "green share of consumption"
    assert i18n.gettext("a message nobody wrote", "zh-CN") == "a message nobody wrote"
    with i18n.use_lang("zh-CN"):
        assert str(Problem("x", expected="y")) == "x（应为 y）"
    assert str(Problem("x", expected="y")) == "x (expected y)"


def test_language_is_per_thread_and_per_task() -> None:
    seen: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def worker(lang: str) -> None:
        with i18n.use_lang(lang):
            barrier.wait()  # both inside their block at once
            seen[lang] = i18n.gettext("self-use share of generation")

    threads = [threading.Thread(target=worker, args=(lang,)) for lang in ("en", "zh-CN")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"en": "self-use share of generation", "zh-CN": "自发自用比例"}

    async def task(lang: str) -> str:
        i18n.set_lang(lang)
        await asyncio.sleep(0.01)
        return i18n.current_lang()

    async def both() -> list[str]:
        return list(await asyncio.gather(task("zh-CN"), task("en")))

    assert asyncio.run(both()) == ["zh-CN", "en"]


@pytest.mark.parametrize(("header", "lang"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"), ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
    ("fr-FR,zh;q=0.5", "zh-CN"), ("de,fr", None), ("", None), (None, None),
    ("en;q=0.2, zh-Hans;q=0.7", "zh-CN"), ("zh;q=0, en", "en"),
])
def test_accept_language(header: str | None, lang: str | None) -> None:
    assert i18n.from_accept_language(header) == lang


def test_number_formatting_is_the_same_in_both_languages() -> None:
    for lang in i18n.LANGUAGES:
        assert i18n.format_decimal(1234567.891, "#,##0.00", lang) == "1,234,567.89"
        assert i18n.format_percent(0.6123, 1, lang) == "61.2%"


runner = CliRunner()


def test_cli_lang_option_translates_errors(clean_env: pytest.MonkeyPatch, tmp_path) -> None:
    (tmp_path / "park.toml").write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["--lang", "zh-CN", "init", str(tmp_path)])
    assert result.exit_code == 2
    assert "错误：1 个问题" in result.output and "已存在" in result.output
    result = runner.invoke(app, ["init", str(tmp_path)])  # the next invocation: English again
    assert result.exit_code == 2
    assert "error: 1 problem(s)" in result.output and "already exists" in result.output


def test_cli_environment_variable(clean_env: pytest.MonkeyPatch, tmp_path) -> None:
    clean_env.setenv("GREENLINK_LANG", "zh-CN")
    result = runner.invoke(app, ["init", str(tmp_path / "new"), "--example", "nope"])
    assert result.exit_code == 2
    assert "未知示例 'nope'" in result.output and "以下之一：" in result.output
    result = runner.invoke(app, ["--lang", "en", "init", str(tmp_path / "new"),
                                 "--example", "nope"])
    assert "unknown example 'nope'" in result.output  # --lang beats GREENLINK_LANG


def test_cli_unknown_lang_is_a_usage_error(clean_env: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["--lang", "xx", "schema"])
    assert result.exit_code == 2
    assert "unknown language 'xx'" in result.output


def test_help_in_the_chosen_language(clean_env: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    zh = runner.invoke(app, ["--lang", "zh-CN", "simulate", "--help"], terminal_width=200)
    assert zh.exit_code == 0, zh.output
    assert "场景 TOML 文件" in zh.output and "输出文件夹" in zh.output
    assert "scenario TOML file" not in zh.output
    clean_env.setenv("GREENLINK_LANG", "zh-CN")
    root = runner.invoke(app, ["--help"], terminal_width=200)
    assert "规划、核验并证明绿电直连" in root.output and "启动 REST API" in root.output
    clean_env.delenv("GREENLINK_LANG")
    en = runner.invoke(app, ["simulate", "--help"], terminal_width=200)  # back to English
    assert "scenario TOML file" in en.output and "场景" not in en.output
    en_root = runner.invoke(app, ["--lang", "en", "--help"], terminal_width=200)
    assert "Start the REST API" in en_root.output


def test_cli_lang_lasts_only_for_its_invocation(clean_env: pytest.MonkeyPatch) -> None:
    """A program that runs greenlink in its own process (a test, a notebook) keeps its
    language: after ``greenlink --lang zh-CN …`` its own messages are English again."""
    from greenlink.cli.rules_cmd import rules_app

    before = i18n.current_lang()
    result = runner.invoke(app, ["--lang", "zh-CN", "rules", "show", "nope"])
    assert "应为" in result.output
    assert i18n.current_lang() == before == "en"
    assert i18n.gettext("done") == "done"
    sub = runner.invoke(rules_app, ["show", "nope"])  # a sub-app invoked directly
    assert "expected" in sub.output and "应为" not in sub.output
    with i18n.use_lang("zh-CN"):  # and a caller's own choice survives an invocation too
        runner.invoke(app, ["--lang", "en", "rules", "list"])
        assert i18n.current_lang() == "zh-CN"


def test_cli_help_texts_are_english_again_after_an_invocation(
        clean_env: pytest.MonkeyPatch) -> None:
    import typer
    from click.testing import CliRunner as ClickRunner

    command = typer.main.get_command(app)  # the same click objects for the whole test
    simulate = command.commands["simulate"]  # type: ignore[attr-defined]
    english = simulate.help
    zh = ClickRunner().invoke(command, ["--lang", "zh-CN", "simulate", "--help"],
                       terminal_width=200)
    assert "场景 TOML 文件" in zh.output
    assert simulate.help == english and "场景" not in (simulate.help or "")


def test_cli_lang_after_the_subcommand(clean_env: pytest.MonkeyPatch) -> None:
    for args in (["rules", "show", "nope", "--lang", "zh-CN"],
                 ["rules", "show", "--lang=zh-CN", "nope"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "应为" in result.output, result.output
    help_zh = runner.invoke(app, ["simulate", "--help", "--lang", "zh-CN"], terminal_width=200)
    assert "场景 TOML 文件" in help_zh.output
    assert i18n.current_lang() == "en"
    bad = runner.invoke(app, ["rules", "list", "--lang", "xx"])
    assert bad.exit_code == 2 and "unknown language 'xx'" in bad.output
