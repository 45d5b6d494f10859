"""The layout of a legacy sheet: which row holds the column headings, which column is which field,
and what every other row is (data, blank, a repeated heading row, a hint row, a section title, a
totals row).

Legacy lists put a title, a date line and blank rows above the headings, split the customers into
sections ("上海市（3家）", "二、江苏地区"), put a row of hints under the headings ("必填", "选填",
"格式：2021-01-01"), repeat the headings after a page break and end with a
"合计" row. Only data rows are imported; when a row is not clearly something else it is data, so the
cleaners report it with a reason instead of losing it silently.
"""
import functools
import itertools
import re
import unicodedata

from .fields import BY_KEY, NEAR, SYNONYMS, heading_key

ROW_DATA, ROW_BLANK, ROW_HEADER, ROW_SECTION, ROW_TOTAL = "data", "blank", "header", "section", "total"
ROW_HINT = "hint"

MAX_HEADING_CHARS = 24  # a heading_key longer than this is a value, not a heading
MIN_CONTAINED_SHARE = 0.3  # a contained synonym must cover this share of the heading ("billingcity": 4/11)
MAX_SECTION_CHARS = 40


# Headings ----------------------------------------------------------------------------------------

# Synonyms a longer heading may contain, longest first, so "联系人手机号" is a contact mobile, not a
# contact. Single characters (省, 市, 区) are too common to look for inside other words.
_CONTAINED = sorted(((word, key) for word, key in SYNONYMS.items() if len(word) >= 2),
                    key=lambda item: -len(item[0]))
_BRACKETED = re.compile(r"[(（\[【<《][^)）\]】>》]*[)）\]】>》]?")
_ALTERNATIVES = re.compile(r"[/／、|｜\\]|或")
# Headings that number or code a thing ("客户编号", "Account ID") are not the thing itself.
_CODE_HEADING = re.compile(r"(?:编号|序号|代码|编码|id|no|number|code)$")
EXACT, PARTIAL, CONTAINED = 0, 1, 2  # how well a heading matched, best first
# A heading that speaks of money ("销售收入", "服务费") or of a moment ("分配时间") is about that, whatever
# else it names: only an exact synonym maps it to a field of another kind, so "销售收入" never
# becomes the owner because it contains "销售".
_AMOUNT_WORD = re.compile(r"收入|金额|额|费|价|营收|成本|利润|预算|回款|款|业绩|revenue|amount|income|price|cost|fee|budget")
_DATE_WORD = re.compile(r"日期|时间|date|time")


def _kind_fits(field, key, bare_key):
    """False when the heading (`key`; `bare_key` without bracketed asides) names money or a moment
    and `field` holds neither."""
    kind = BY_KEY[field].kind
    return not ((kind != "amount" and _AMOUNT_WORD.search(key))
                or (kind != "date" and _DATE_WORD.search(bare_key)))


@functools.lru_cache(maxsize=4096)
def _heading_match(text):
    """(field, how) for a heading text; (None, None) if it names no field.

    EXACT: its heading_key is a synonym. PARTIAL: it is a near synonym ("所在地" for the city), or a
    synonym once bracketed asides are dropped ("客户名称（全称）", "金额(元)") or as the first of
    alternatives ("手机号码/电话"). CONTAINED: a synonym ends it ("负责人电话" is a phone) or, failing
    that, sits inside it ("Created Date"); English synonyms only at either end and of four letters or
    more, so "cell" does not match "cancelled". Neither PARTIAL nor CONTAINED maps a heading that
    names money or a moment to a field of another kind (`_kind_fits`).
    """
    full_key = heading_key(text)
    if full_key in SYNONYMS:
        return SYNONYMS[full_key], PARTIAL if full_key in NEAR else EXACT
    bare_key = heading_key(_BRACKETED.sub("", text))
    for part in (_BRACKETED.sub("", text), *_ALTERNATIVES.split(_BRACKETED.sub("", text))):
        part_key = heading_key(part)
        if part_key in SYNONYMS and _kind_fits(SYNONYMS[part_key], full_key, bare_key):
            return SYNONYMS[part_key], PARTIAL
    key = bare_key or full_key
    if not key or len(key) > MAX_HEADING_CHARS or _CODE_HEADING.search(key):
        return None, None
    for at_end in (True, False):
        for word, field in _CONTAINED:
            if len(word) / len(key) < MIN_CONTAINED_SHARE:
                break  # the rest are shorter still
            if word not in key:
                continue
            if word.isascii() and (len(word) < 4 or not (key.startswith(word) or key.endswith(word))):
                continue
            if at_end and not key.endswith(word):
                continue
            if not _kind_fits(field, full_key, key):
                continue
            return field, CONTAINED
    return None, None


def _heading_field(cell):
    """(field, how) for a heading cell; (None, None) for an empty, unknown or non-text cell."""
    if not isinstance(cell, str) or not cell.strip():
        return None, None
    return _heading_match(cell.strip())


heading_match = _heading_field  # (field, EXACT/PARTIAL/CONTAINED) for a heading cell, or (None, None)


HEADER_SCAN = 30  # rows find_header looks at


def find_header(rows, *, scan=HEADER_SCAN):
    """Index of the heading row among the first `scan` rows, or None.

    The heading row is the one whose cells name the most distinct fields (an exact synonym, or a
    heading containing one, like "客户名称（全称）"); it needs two of them, or only the customer name
    if it has at least three text cells. The first such row wins a tie, so title rows, merged
    banners and blank rows above the headings are skipped, and data rows below never win.
    """
    best, best_score = None, 0
    for index, row in enumerate(itertools.islice(rows, scan)):
        fields = {field for field, _how in map(_heading_field, row) if field}
        score = len(fields)
        if score == 1 and "name" in fields:
            score = 1 if sum(1 for cell in row if isinstance(cell, str) and cell.strip()) >= 3 else 0
        elif score < 2:
            score = 0
        if score > best_score:
            best, best_score = index, score
    return best


def auto_mapping(header_cells):
    """{column index: field key} for the heading cells: exact synonyms first, then near ones
    ("客户名称（全称）"), then headings containing one; each field used once (at a tie the leftmost
    column wins); unknown headings unmapped."""
    mapping, used = {}, set()
    matches = [_heading_field(cell) for cell in header_cells]
    for quality in (EXACT, PARTIAL, CONTAINED):
        for index, (field, how) in enumerate(matches):
            if field and how == quality and field not in used and index not in mapping:
                mapping[index] = field
                used.add(field)
    return dict(sorted(mapping.items()))


# Rows --------------------------------------------------------------------------------------------


# Characters that leave a cell empty: every kind of space, and the zero-width ones Word and web pages leave.
_BLANK = "".join(chr(code) for code in range(0x3001) if chr(code).isspace()) + "\u200b\u200c\u200d\u2060\ufeff"
_key = functools.lru_cache(maxsize=16384)(heading_key)  # column values repeat (types, tiers, cities)




def _text(cell):
    """A text cell trimmed and width-folded ("Ｔｏｔａｌ　" → "Total")."""
    return unicodedata.normalize("NFKC", cell).strip(_BLANK)


_TOTAL = re.compile(
    r"^[\W_]*(?:(?:合计|总计|小计|共计|总数|总合计|累计)"
    r"|(?:grand\s*total|sub\s*total|totals?|sum)(?![a-z])"
    r"|共\s*\d+\s*(?:家|所|个|户|条|位|名|人)(?:客户|单位|学校|企业|公司)?\W*$)",
    re.IGNORECASE)
_COUNT_IN_BRACKETS = re.compile(
    r"[(\[【]\s*(?:共|计|合计)?\s*\d+\s*(?:家|所|个|户|条|位|名|人|项|间|school|schools|customers?|accounts?)?\s*[)\]】]",
    re.IGNORECASE)
_ORG_SUFFIX = re.compile(
    r"(?:公司|学校|医院|大学|学院|中学|小学|幼儿园|集团|厂|店|中心|研究所|研究院|所|院|局|馆|社|行|站|部|处|委员会|协会|"
    r"商会|基金会|银行|事务所|工作室|合作社|门诊|诊所|酒店|宾馆|超市|商场|市场|工作室|"
    r"ltd|limited|inc|llc|corp|corporation|company|co|gmbh|plc|group|school|university|college|hospital)"
    r"[\s.。）)]*$",
    re.IGNORECASE)
_NUMBERED_TITLE = re.compile(
    r"^(?:[一二三四五六七八九十百]+\s*[、.．:：]"
    r"|[(（]\s*[一二三四五六七八九十]+\s*[)）]"
    r"|第\s*[一二三四五六七八九十百\d]+\s*(?:部分|章|节|类|组|批|片区|区域|篇)"
    r"|(?:part|section)\s*[\divx]+\b)",
    re.IGNORECASE)
_DECORATED = re.compile(r"^(?:[=\-*#~_<>]{2,}|[■□◆◇●○★☆▲△►▶▼◎【\[])")
_REGION_OR_GROUP = re.compile(
    r"(?:地区|区域|片区|大区|省|市|自治区|特别行政区|区|县|分区|客户|名单|客户群|类|部分|板块|系统)$")


# A cell that tells whoever fills the sheet what to write: "必填", "选填（可空）", "*必填", "格式：2021-01-01",
# "例：13800000000", "示例", "e.g. ACME Ltd", "Required", "format: YYYY-MM-DD". "注：…" and "说明：…" are
# not among them: a customer's note may start so.
_HINT_WORD = r"(?:非必填|必填项?|选填项?|可选填?|必选|可不填|可为空|可空|不可为空|不能为空|必须填写|required|optional|mandatory)"
_HINT = re.compile(
    r"^[\W_]*(?:" + _HINT_WORD + r"(?:$|[\W_])"
    r"|(?:格式|示例|样例|举例|例如|例|填写格式|填写示例|单位|format|example|for\s*example|eg|e\.g|unit)\s*[:：.]"
    r"|示例$)",
    re.IGNORECASE)


def _is_hint(cell):
    return cell.__class__ is str and bool(_HINT.match(_text(cell)))


def classify(row, header_cells, mapping):
    """ROW_BLANK, ROW_HEADER, ROW_TOTAL, ROW_HINT, ROW_SECTION or ROW_DATA for one row below the
    heading row.

    blank: no value; header: the heading row again (most of its values equal the headings in the
    same columns); total: its first value starts with 合计/总计/小计/共计/总数/Total/Sum …; hint: its first
    value and at least half of them are hints to whoever fills the sheet ("必填", "选填", "格式：2021-01-01",
    "例：…", "单位：元", "e.g. …"); section:
    one value (or one value repeated, from a merged banner) that reads as a section title and not as
    a customer; data: everything else, including a row holding only a company name.
    """
    filled = [index for index, cell in enumerate(row)
              if cell is not None and (cell.__class__ is not str or cell.strip(_BLANK))]
    if not filled:
        return ROW_BLANK
    if header_cells and _repeats_header(row, filled, _header_info(tuple(header_cells))):
        return ROW_HEADER
    first = row[filled[0]]
    if first.__class__ is str:
        text = _text(first)
        if _is_total(text):
            return ROW_TOTAL
        # A hint first, and hints in at least half its cells: the others may list the values a column
        # takes ("A类/B类/C类"), which no customer's row holds in its first cell after a hint.
        if _HINT.match(text) and 2 * sum(_is_hint(row[index]) for index in filled) >= len(filled):
            return ROW_HINT
    if _is_section(row, filled, mapping):
        return ROW_SECTION
    return ROW_DATA


def _is_total(text):
    return bool(_TOTAL.match(text) or _TOTAL.match(re.sub(r"\s+", "", text)))  # "合 计" too


@functools.lru_cache(maxsize=8)
def _header_info(header_cells):
    """(headings, their heading keys, a pattern per key that finds a character its key cannot come
    from, how many keys are not empty) of a heading row."""
    keys = tuple(heading_key(cell) if isinstance(cell, str) else "" for cell in header_cells)
    return header_cells, keys, tuple(_foreign_to(key) for key in keys), sum(1 for key in keys if key)


def _foreign_to(key):
    """A pattern that finds, in a cell, a character that would still be there, unchanged, in the
    cell's heading key but is not in `key`: a Chinese character (NFKC and lower case leave them as
    they are) or an ASCII letter or digit (any case). A cell it finds something in is not that
    heading, and its own key need not be worked out (most data cells, cheaply)."""
    own = "".join(sorted({re.escape(c) for c in key if c.isascii() and c.isalnum() or _CJK.match(c)}))
    kept = r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]"
    return re.compile(f"(?![{own}]){kept}" if own else kept, re.IGNORECASE)


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def _repeats_header(row, filled, header):
    """True if more than half of the row's values (and at least two) are the headings of their
    columns. Stops as soon as the answer is known: it runs on every row of a sheet."""
    headings, keys, foreign, named = header
    if not named:
        return False
    need = max(len(filled) // 2 + 1, min(2, named))
    misses_allowed = len(filled) - need
    same = misses = 0
    for index in filled:
        cell = row[index]
        if (index < len(keys) and keys[index] and cell.__class__ is str
                and (cell == headings[index] or (not foreign[index].search(cell) and _key(cell) == keys[index]))):
            same += 1
            if same >= need:
                return True
        else:
            misses += 1
            if misses > misses_allowed:
                return False
    return False


def _is_section(row, filled, mapping):
    first = row[filled[0]]
    if first.__class__ is not str:
        return False
    text = _text(first)
    if any(row[index].__class__ is not str or _text(row[index]) != text for index in filled[1:]):
        return False  # more than one value, unless a merged banner repeated the same one
    if len(text) > MAX_SECTION_CHARS:
        return False
    if _COUNT_IN_BRACKETS.search(text):
        return True
    if _ORG_SUFFIX.search(text):
        return False  # a customer with nothing but its name is still a customer
    if len(filled) == 1 and mapping.get(filled[0]) not in (None, "name"):
        return False  # a lone phone, email or note in its own column belongs to a customer
    bare = re.sub(r"[\W_]+", "", text)
    return bool(_NUMBERED_TITLE.match(text) or (_DECORATED.match(text) and bare)
                or (len(bare) <= 12 and _REGION_OR_GROUP.search(bare)))


__all__ = ["ROW_BLANK", "ROW_DATA", "ROW_HEADER", "ROW_HINT", "ROW_SECTION", "ROW_TOTAL", "auto_mapping",
           "classify", "find_header", "heading_match"]
