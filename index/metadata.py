"""Title, plan year and region of a report: inferred, then overridden.

Inference reads the file name and the cleaned text. Overrides come from a
``NAME.meta.json`` beside the file (``report.txt.meta.json`` or
``report.meta.json``) holding any of ``title``, ``year``, ``region``; the
``override`` argument (command-line flags) wins over the file.
"""

from __future__ import annotations

import collections
import contextlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from index.errors import MetadataWriteError, ReadError, ReportQAError
from index.vocab import NATIONAL, PROVINCES, REGION_SUFFIXES

OVERRIDE_KEYS = ("title", "year", "region")
REPORT_NAME = "政府工作报告"
_GREETING = "各位代表"  # how every work report opens, whatever its title line says
HEAD_CHARS = 800
FALLBACK_YEAR_CHARS = 3000
MIN_REGION_MENTIONS = 3
MIN_NATIONAL_MENTIONS = 5
TITLE_LINE_MAX_CHARS = 40
# The 11th five-year plan (十一五) ran 2006–2010; each later one starts five years on.
ELEVENTH_PLAN_START = 2006
# The years a report may be set to by hand (the first work report is of 1954).
MIN_YEAR, MAX_YEAR = 1949, 2100


_NATIONAL_HEAD_RE = re.compile(
    r"代表国务院|国务院总理|代表中央人民政府|全国人民代表大会第|国务院政府工作报告"
)
_NATIONAL_TEXT_RE = re.compile(r"我代表国务院|我代表中央人民政府")
_REGION_SUFFIX = "(?:" + "|".join(REGION_SUFFIXES) + ")"
_DATELINE_RE = re.compile(
    rf"在([\u4e00-\u9fff]{{2,10}}?{_REGION_SUFFIX})第?[一二三四五六七八九十]+届人民代表大会"
)
# Han characters that cannot start a city name ("2025年太原市", "在太原市", "代表市人民政府").
_NAME_CHAR = r"(?:(?![年月日在于的和与及是我代表])[\u4e00-\u9fff])"
_CITY_RE = re.compile(
    rf"({_NAME_CHAR}{{2,5}}?(?:市|县|区|旗|州|盟))"
    r"(?:人民政府|政府工作报告|第[一二三四五六七八九十]+届人民代表大会)"
)
# "X市" after a delimiter, not "X市场/市委/市政": "山西省、太原市群众" but not "推动市委".
_CITY_MENTION_RE = re.compile(
    r"(?:^|[、，。；：“”（(\s省])([\u4e00-\u9fff]{2,4}?)市(?![场委政民属直级])", re.M
)
_LOCAL_WORDS = ("我省", "全省", "我市", "全市", "我区", "全区")
# jieba part-of-speech tags of words that cannot be a place name (verbs, adverbs…).
_NOT_NAME_TAGS = ("v", "d", "p", "c", "u", "r", "m", "q", "a")
_PLAN_YEAR_RE = re.compile(
    r"(\d{4})年(?:的)?(?:工作安排|政府工作|工作总体部署|主要预期目标|重点工作|主要任务|工作任务"
    r"|经济社会发展总体要求|国民经济计划|国家预算|工作(?!回顾|总结|和|及))"
)
_FIVE_YEAR_RE = re.compile(
    r"今年是.{0,12}“?十([一二三四五六七八九])五”?.{0,8}?(开局|起步|第一年|收官|最后一年)"
)
_YEAR_RE = re.compile(r"(?<!\d)(19[4-9]\d|20\d\d)(?!\d)")
_CHINESE_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_CHINESE_YEAR_RE = re.compile(r"[〇零一二三四五六七八九]{4}(?=年)")


@dataclass(frozen=True)
class Metadata:
    """What a report is: its title, the year it plans for and its region."""

    title: str
    year: int | None
    region: str


def meta_paths(path: Path) -> tuple[Path, Path]:
    """Where the ``.meta.json`` of ``path`` may be: ``a.txt.meta.json``, then ``a.meta.json``."""
    return path.with_name(path.name + ".meta.json"), path.with_suffix(".meta.json")


def meta_file_for(path: Path) -> Path | None:
    """The ``.meta.json`` beside ``path`` (``a.txt.meta.json`` before ``a.meta.json``)."""
    for candidate in meta_paths(path):
        if candidate.is_file():
            return candidate
    return None


def write_override(path: Path, values: dict) -> tuple[Path, str | None]:
    """Write ``values`` (title/year/region) into the ``.meta.json`` beside ``path``.

    A value that is ``None`` or empty drops its key, so that it is inferred again; other
    keys of an existing meta file are kept. The file is replaced in one step.

    Returns:
        The meta file and its previous text (``None`` when there was none), to undo with
        :func:`restore_override`.

    Raises:
        ReportQAError: A value is invalid (a year that is not a plausible year).
        MetadataWriteError: The meta file cannot be written (a read-only folder).
    """
    target = meta_file_for(path) or path.with_name(path.name + ".meta.json")
    previous = target.read_text(encoding="utf-8-sig") if target.is_file() else None
    data = {}
    if previous is not None:
        try:
            loaded = json.loads(previous)
        except json.JSONDecodeError:
            loaded = {}  # a broken meta file is replaced, which is what fixing it means
        data = loaded if isinstance(loaded, dict) else {}
    for key in OVERRIDE_KEYS:
        value = values.get(key)
        value = value.strip() if isinstance(value, str) else value
        if value is None or value == "":
            data.pop(key, None)
        else:
            data[key] = _checked(key, value)
    _replace(target, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return target, previous


def restore_override(target: Path, previous: str | None) -> None:
    """Put back the meta file :func:`write_override` replaced (or remove the one it made)."""
    if previous is None:
        target.unlink(missing_ok=True)
    else:
        _replace(target, previous)


def _checked(key: str, value):
    if key == "year":
        year = int(value) if isinstance(value, int | float) or str(value).isdigit() else 0
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ReportQAError(
                f"year must be between {MIN_YEAR} and {MAX_YEAR}, not {value!r}",
                f"年份应为 {MIN_YEAR}–{MAX_YEAR} 之间的四位数字，例如 2025。",
            )
        return year
    return str(value)


def _replace(target: Path, text: str) -> None:
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):  # a folder we cannot write has no leftover
            temporary.unlink(missing_ok=True)
        raise MetadataWriteError(
            f"cannot write {target} ({exc.strerror or exc})",
            f"无法在报告所在的文件夹写入 {target.name}（{exc.strerror or '没有写权限'}），"
            "报告信息没有修改。请让管理员修改该文件夹的权限，或把报告上传到网页后再修改。",
        ) from exc


def effective_override(path: Path, override: dict | None = None) -> dict:
    """Merge the meta file beside ``path`` with ``override`` (which wins).

    Returns:
        Only the keys title/year/region that are set, validated.

    Raises:
        ReadError: The meta file is not valid JSON or holds values of the wrong type.
    """
    merged: dict = {}
    meta_path = meta_file_for(path)
    if meta_path is not None:
        try:
            loaded = json.loads(meta_path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            reason = f"invalid metadata file ({exc})"
            raise ReadError(meta_path, reason, "元数据文件格式错误") from exc
        if not isinstance(loaded, dict):
            raise ReadError(meta_path, "metadata must be a JSON object", "元数据必须是 JSON 对象")
        merged.update(_validated(loaded, meta_path))
    merged.update(_validated(override or {}, path))
    return merged


def _validated(values: dict, source: Path) -> dict:
    result = {}
    for key in OVERRIDE_KEYS:
        value = values.get(key)
        if value is None or value == "":
            continue
        if key == "year":
            if isinstance(value, bool) or not str(value).strip().isdigit():
                raise ReadError(source, f"year must be a number, not {value!r}", "年份必须是数字")
            value = int(str(value).strip())
        elif not isinstance(value, str):
            raise ReadError(source, f"{key} must be text, not {value!r}", f"{key} 必须是文字")
        result[key] = value.strip() if isinstance(value, str) else value
    return result


def infer_metadata(path: Path, text: str, override: dict | None = None) -> Metadata:
    """Title, year and region of a report.

    Args:
        path: The report file (its name is a clue).
        text: The cleaned text.
        override: Values that replace inferred ones (already merged with the meta file).

    Returns:
        The metadata; a title is always present (the file stem at worst).
    """
    override = override or {}
    scan = _normalise_for_scan(text)
    stem = unicodedata.normalize("NFKC", path.stem)
    region = override.get("region", infer_region(stem, scan))
    # Only a report has a plan year to guess from the years it mentions; an article or a
    # notice that names 2008 is not 2008's report (its year stays unknown).
    report_like = bool(region) or REPORT_NAME in scan
    year = override.get("year", infer_year(stem, scan, guess=report_like))
    title = override.get("title") or _infer_title(text, year, region, report_like) or path.stem
    return Metadata(title=title, year=year, region=region)


def _normalise_for_scan(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=\d) (?=\d)", "", text)
    return _CHINESE_YEAR_RE.sub(lambda m: m.group().translate(_CHINESE_DIGITS), text)


def infer_year(stem: str, text: str, guess: bool = True) -> int | None:
    """The year a report plans for, from its file name, then its text.

    With ``guess``, a text that says no plan year gets the year it mentions most near its
    start.
    """
    match = _YEAR_RE.search(stem)
    if match:
        return int(match.group(1))
    planned = [int(y) for y in _PLAN_YEAR_RE.findall(text) if _YEAR_RE.fullmatch(y)]
    if planned:
        return max(planned)
    match = _FIVE_YEAR_RE.search(text)
    if match:
        first_year = ELEVENTH_PLAN_START + 5 * "一二三四五六七八九".index(match.group(1))
        return first_year if match.group(2) in ("开局", "起步", "第一年") else first_year + 4
    years = [int(y) for y in _YEAR_RE.findall(text)]
    if not years or not guess:
        return None
    latest = max(years)
    near_start = [int(y) for y in _YEAR_RE.findall(text[:FALLBACK_YEAR_CHARS]) if int(y) <= latest]
    counts = collections.Counter(near_start or years)
    return max(counts, key=lambda y: (counts[y], y))


def infer_region(stem: str, text: str) -> str:
    """``全国``, a province or a city, from the file name, the opening lines, then mentions."""
    for full, short in PROVINCES:
        if full in stem or short in stem:
            return full
    city = _CITY_RE.search(stem)
    if city:
        return city.group(1)
    if _NATIONAL_TEXT_RE.search(text):
        return NATIONAL
    # An article's opening names 国务院总理 or 北京市人民政府 as readily as a report's
    # does; only a report also calls itself one or greets the congress (各位代表).
    if REPORT_NAME in text or _GREETING in text:
        head = text[:HEAD_CHARS]
        if _NATIONAL_HEAD_RE.search(head):
            return NATIONAL
        for pattern in (_DATELINE_RE, _CITY_RE):
            match = pattern.search(head)
            if match:
                return _full_region_name(match.group(1))
    # National reports say 我国 throughout; local ones say 我省/全市/全区.
    ours = text.count("我国")
    if ours >= MIN_NATIONAL_MENTIONS and ours > 2 * sum(map(text.count, _LOCAL_WORDS)):
        return NATIONAL
    # Only a report speaks of 我省/全市…: an encyclopedia article that names a province
    # three times is not that province's report.
    if sum(map(text.count, _LOCAL_WORDS)) < MIN_REGION_MENTIONS:
        return ""
    return _most_mentioned_region(text)


def _full_region_name(name: str) -> str:
    for full, short in PROVINCES:
        if name in (full, short):
            return full
    return name


def _most_mentioned_region(text: str) -> str:
    counts = {full: text.count(short) for full, short in PROVINCES}
    short_names = {short for _, short in PROVINCES}
    for name in set(_CITY_MENTION_RE.findall(text)) - short_names:
        if _may_be_place(name):
            counts[name + "市"] = text.count(name)
    best = max(counts, key=lambda name: counts[name], default="")
    return best if counts.get(best, 0) >= MIN_REGION_MENTIONS else ""


def _is_title_line(line: str) -> bool:
    # "2026年四川省人民政府工作报告" contains REPORT_NAME too.
    short = len(line) <= TITLE_LINE_MAX_CHARS
    return REPORT_NAME in line and short and not re.search(r"[，。；：,;]", line)


def _may_be_place(name: str) -> bool:
    # Imported here: the dictionary takes ~0.3 s and only this fallback needs it.
    from jieba import posseg

    tag = posseg.dt.word_tag_tab.get(name) or ""
    return not tag.startswith(_NOT_NAME_TAGS)


def _infer_title(text: str, year: int | None, region: str, report_like: bool) -> str:
    head_lines = text[:HEAD_CHARS].split("\n")[:8]
    line = next((ln for ln in head_lines if _is_title_line(ln)), "").strip()
    bare = re.sub(r"^\d{4}年", "", line)
    if line and bare not in (REPORT_NAME, ""):
        return line if _YEAR_RE.search(line) or year is None else f"{year}年{line}"
    if not report_like or not (year or region):
        return ""
    who = "国务院" if region == NATIONAL else region
    return f"{year}年{who}{REPORT_NAME}" if year else f"{who}{REPORT_NAME}"
