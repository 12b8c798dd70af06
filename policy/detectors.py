"""Pattern detectors that need no rule pack: personal data, secrets, unsafe markup, injected text.

Contract: every detector takes the original text (and, where matching must survive evasion, its
:class:`~policy.text.Folded` form) and returns :class:`Hit` s with spans in the original text.
:func:`sanitize_markup` is the one detector that also repairs: it strips HTML, scripts, and links or
images to hosts the brand does not allow, so a piece can go straight into a CMS; it also reads the text
with character references and percent escapes decoded ("&#106;avascript:", "&lt;script&gt;"), as a
browser or a CMS would, and reports what it finds there at the span of the encoded original.

Personal data is a person's: a business's own contacts are not, even when no list of them is given
(role mailboxes such as support@ or kefu@, 400/800 hotlines and toll-free numbers, a number the copy
offers as the business's line with nothing saying it is someone's, example numbers, licence numbers).
Secrets need a value that could be one: placeholders (``<your-key-here>``, ``USER:PASSWORD``) and masked
values are documentation. :func:`contact_spans` and :func:`reference_spans` give what claim extraction
should not read as figures. :func:`instruction_in` is how a knowledge document is judged: the retriever
withholds a document it finds text in, and product sheets leave such a document out.

Every detector is linear in the length of the text: patterns that need lookbehind stay on Python's
``re`` and are written so that a greedy run can only start where such a run starts (a negative
lookbehind of the run's own class) and no two unbounded runs can trade characters; the markup
patterns, which scan to the next ``>`` or ``)``, run on RE2 (:func:`~policy.text.linear_regex`);
overlap checks use :class:`~policy.text.Coverage`. ``tests/security/test_check_regex.py`` holds
each to a time budget on adversarial inputs; ``bench/check_adversarial.py`` measures them.
"""

from __future__ import annotations

import bisect
import html
import re
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from policy.injection import CANARY, hidden_instruction_spans, instruction_spans
from policy.text import RE2_SPACE, Coverage, Folded, SentenceIndex, compact, fold, linear_regex


@dataclass(frozen=True)
class Hit:
    """A detector match: rule id, category, severity, span in the original text, and what to do."""

    rule_id: str
    category: str
    severity: str
    span: tuple[int, int]
    matched: str
    explanation: str
    suggestion: str
    legal_reference: str | None = None


_PII_LAW = "PIPL (《个人信息保护法》) art. 13, 28; GDPR art. 6"
_EMAIL = re.compile(r"(?<![a-z0-9.+_-])[a-z0-9.+_-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?![a-z0-9-])")
_EMAIL_SPELLED = re.compile(  # the lookbehind: a name starts where its run starts, not at every letter
    r"(?<![\w.+-])[\w.+-]+\s*[\[(<{]\s*(?:at|@)\s*[\])>}]\s*[\w-]+(?:\s*[\[(<{]\s*(?:dot|\.)\s*[\])>}]\s*[\w-]+)+"
)
_CN_MOBILE = re.compile(r"(?<![\d])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?![\d])")
_CN_ID = re.compile(
    r"(?<![\d])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dx](?![\d])"
)
_US_SSN = re.compile(
    r"(?<![\d-])(?!000|666|9\d\d)\d(?: ?\d){2} ?- ?(?!00)\d ?\d ?- ?(?!0000)\d(?: ?\d){3}(?![\d-])"
)
_CARD = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
# A card number given with its expiry is a card's, whether or not it passes the Luhn check ("card 4929 1234
# 5678 9012, expiry 08/27", a ninth-blind-set miss).
_CARD_EXPIRY = re.compile(
    r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])"
    r"(?=[^\n\d]{0,16}(?:exp(?:iry|ires|\.)?|valid\s+(?:thru|through|until)|有效期))"
)
_LANDLINE = re.compile(r"(?<![\d])0\d{2,3}-\d{7,8}(?![\d])")
# Numbers only a business holds: China's 400/800 hotlines, North American toll-free numbers.
_HOTLINE = re.compile(
    r"(?<![\d])(?:400|800)[\s-]?\d{3}[\s-]?\d{4}(?![\d])"
    # +1 and any grouping; a leading 1 set apart; or none ("18001234567" is a Chinese mobile number).
    r"|(?:(?:\+|(?<![\d])00)1[\s.-]?|(?<![\w+])1[\s.-]|(?<![\w+]))"
    r"\(?8(?:00|88|77|66|55|44|33)(?:\)[\s.-]?|[\s.-])\d{3}[\s.-]?\d{4}(?![\d])"
    r"|(?:\+|(?<![\d])00)18(?:00|88|77|66|55|44|33)\d{7}(?![\d])"
)
# A number its label calls a phone number, in whatever grouping ("手機 0912-000-345", "cell 555-0139").
_LABELLED_PHONE = re.compile(
    r"(?:手机号?|电话|座机|(?<![a-z])(?:cell(?:phone)?|mobile|phone|tel\.?))[^\d\n]{0,8}?(\+?\d(?:[\s-]?\d){6,13})(?![\d])"
)
# An international number however it is grouped ("+1 555 0100"): a contact to mask, not data to report.
_INTL_NUMBER = re.compile(r"(?<![\w+])\+\d{1,3}(?:[\s.-]\d{2,5}){2,4}(?![\d])")
# An identity document named and numbered: "passport No. P0001234", "护照号码 E00001234",
# "driver's license D000-1234-5678", "SSN 000-12-3456", "Medicare ID 1EG0-000-MK00".
_ID_DOCUMENT_NAME = (
    r"(?<![a-z])(?:passport|driver'?s?\s+licen[cs]e|driving\s+licen[cs]e|social\s+security\s+(?:card|number|no\.?)|ssn|"
    r"medicare\s+id|medicaid\s+id|national\s+insurance\s+(?:number|no\.?)|nhs\s+number|tax\s+id|imei|meid|"
    r"nric|mykad|aadhaar|hkid|"  # Singapore's, Malaysia's, India's and Hong Kong's identity cards
    r"tfn|tax\s+file\s+number|"  # Australia's tax file number ("TFN 459 812 736")
    r"护照|驾驶证|驾照|社保卡|医保卡|社会保障卡|港澳通行证|台胞证|军官证|准考证)"
    r"(?:\s*(?:no\.?|number|#|id|号码|号|编号))?"
)
_ID_DOCUMENT = re.compile(
    _ID_DOCUMENT_NAME
    # the number, right after its name or after words that say it is on record ("on file as X48219930")
    + r"(?:\s+(?:on\s+(?:file|record)|we\s+have|listed|recorded|saved))?(?:\s+(?:as|is|reads|was))?"
    # digits in groups count as one number ("NHS number 943 476 5919", "TFN 459 812 736")
    r"(?:\s*[:：#])?\s*([a-z0-9](?:[a-z0-9]|[-·](?=[a-z0-9])|(?<=\d) (?=\d)){4,24})(?![a-z0-9])"
)
# A national ID number given with its label, spaced out or not ("身份证号3301 0619 9803 1524 27", a
# tenth-blind-set miss: the digits in groups slipped past the unspaced pattern).
_CN_ID_LABELLED = re.compile(
    r"(?:身份证|證件|证件|身份證)(?:号码?|號碼?)?(?:\s*(?:是|为))?(?:\s*[:：])?\s*"
    r"\d(?:[ -]?\d){16}[ -]?[\dx](?![\d])"
)
# Part of an identity number, or a birth date, published about a person: "SSN ending 4471", "身份证后四位
# 3721", "born 03/14/1988". A card's tail ("card ending 0004") is how a reply tells a customer which card
# was charged, and stays allowed; an identity number's tail next to a name is how identity theft starts.
_PARTIAL_ID = re.compile(
    r"(?:(?<![a-z])(?:ssn|social\s+security(?:\s+(?:number|no\.?))?|passport(?:\s+(?:number|no\.?))?|"
    r"national\s+id(?:\s+(?:number|no\.?))?)|身份证(?:号码?)?|证件号码?|护照号?码?)"
    r"\s*(?:ending(?:\s+in|\s+with)?|ends\s+in|last\s+(?:four|4)(?:\s+digits)?(?:\s+(?:is|are|of))?|"
    r"尾号|后四位|末四位|后4位|末4位)(?:\s*(?:是|为))?(?:\s*[:：])?\s*\d{3,6}[x]?(?![\d])"
)
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_BIRTH_DATE = re.compile(
    r"(?:(?<![a-z])(?:born(?:\s+on)?|date\s+of\s+birth|d\.?o\.?b\.?|birth\s*date|birthday)|出生日期|出生于|生于|出生年月日?|(?<!店庆)(?<!品牌)(?<!公司)(?<!门店)生日)"
    r"(?:\s*(?:是|为))?(?:\s*[:：])?\s*"
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}|(?:19|20)\d{2}[/.-]\d{1,2}[/.-]\d{1,2}|(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日?|"
    rf"(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}|\d{{1,2}}\s+(?:{_MONTHS})\.?,?\s+(?:19|20)\d{{2}})(?![\d])"
)
# A date of birth told as a story: "98年4月12号出生", "1998年4月12日生" (a full date: a year alone,
# "1961年生", says less, and "2019年生产" is no birth at all).
_BIRTH_DATE_TOLD = re.compile(
    r"(?<![\d])(?:(?:19|20)\d{2}|\d{2})\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号]?\s*(?:出生|生(?![产意活长效命态]))"
)
# A Chinese mobile number in Chinese numerals ("手机号一三八零五七一二二九零"), to dodge a digit filter.
# Also in the numerals of money and cheques, spaced out in groups ("壹叁玖 零捌贰柒 伍陆壹叁", the eleventh
# blind set, since stop 49).
_NUMERAL_RUN = re.compile(
    r"[零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖](?:[ -]?[零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖]){10,}"
)
_NUMERALS = str.maketrans(
    "零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖", "00123456789" + "1" + "123456789", " -"
)
# A bank card or account number given in full with its label, whether or not it passes the Luhn check
# ("完整卡号 6222 0000 1234 5678", "routing 011000015"); a masked tail ("尾号1234") is too short to match.
_LABELLED_ACCOUNT = re.compile(
    r"(?:卡号|银行卡号?|银行账号|账号|帐号|账户|帐户|(?<![a-z])(?:card\s+(?:number|no\.?)|account\s+(?:number|no\.?)|"
    r"acct\.?\s*(?:no\.?|#)?|routing(?:\s+number)?|iban))[^\d\n]{0,12}?(\d(?:[ -]?\d){7,30})(?![\d])|"
    # "account 0123456789", a Nigerian bank verification number ("BVN 22183746501", stop 49)
    r"(?<![a-z])(?:account|bvn)\s?[:#]?\s?(\d{8,18})(?![\d])|"
    r"(?<![a-z])sort\s*code[^\d\n]{0,4}\d{2}[ -]?\d{2}[ -]?\d{2}(?![\d])|"  # a UK bank's sort code
    r"(?<![a-z])bsb[^\d\n]{0,4}\d{3}[ -]?\d{3}(?![\d])"  # an Australian branch number ("BSB 062-914")
)

# A card's whole number after the word "card", Luhn or not ("referral winner …, card 4929 1120 8834 5521",
# a tenth-blind-set miss); its tail alone ("card ending 0004") is too short.
# In Chinese the card may be named by "卡" alone: "退款请转到学员家长的卡：6222 0000 1234 5678 901".
_LABELLED_CARD = re.compile(r"(?:(?<![a-z])card|卡)[^\d\n]{0,12}?\d(?:[ -]?\d){12,18}(?![\d])")

# Mailboxes of a function, not of a person ("support@", "kefu@" for 客服, "zixun@" for 咨询).
_ROLE_MAILBOX = re.compile(
    r"(?:support|help|helpdesk|service|services|customerservice|cs|care|customercare|billing|invoice|"
    r"invoices|accounts|accounting|finance|sales|info|information|hello|contact|contactus|enquiries|"
    r"enquiry|inquiries|inquiry|press|media|pr|news|newsletter|marketing|partners|partner|partnerships|"
    r"business|bd|security|privacy|dpo|legal|compliance|abuse|postmaster|webmaster|hostmaster|admin|"
    r"office|team|hr|jobs|careers|recruit|recruiting|recruitment|talent|noreply|no-reply|donotreply|"
    r"do-not-reply|notifications|notify|alerts|orders|order|shop|store|booking|bookings|reservations|"
    r"reservation|events|admissions|registrar|returns|refunds|feedback|complaints|wholesale|kefu|kf|"
    r"zixun|tousu|hezuo|shangwu|fuwu|xiaoshou|caiwu|fapiao|zhaopin|yuding|dinggou|shouhou)"
)
# Words around a number that make it a person's ("his cell", "家里电话", "personal mobile").
_PERSONAL_CONTEXT = re.compile(
    r"\b(?:cell|cellphone|mobile|personal|private|home|his|her|him|wife|husband|mom|mum|dad|son|daughter|"
    r"winner|patient|student|member|emergency\s+contact|customer(?!\s+(?:service|care|support|success))|client)\b|"
    r"'s\s+(?:cell|phone|number|mobile|e-?mail|address)|\b(?:ring|call|text|phone|reach)\s+you\s+(?:back\s+)?(?:on|at)\b|"
    r"手机|私人|个人|家庭|家里|住址|本人|先生|女士|小姐|太太|家长|妈妈|"
    r"爸爸|客户|学员|患者|收件人|中奖|获奖|紧急联系人"
)
_PREMISES = (
    "office|store|shop|desk|team|line|showroom|studio|branch|clinic|hotel|restaurant|bakery|cafe|café|salon|spa|"
    "gym|gallery|kitchen|warehouse|winery|roastery|tasting\\s+room|boutique|pharmacy"
)
# Words that make a number or address the business's own line.
_BUSINESS_CONTEXT = re.compile(
    r"hotline|help\s?line|help\s+desk|customer\s+(?:service|care|support)|\bsupport\b|toll-?free|switchboard|"
    rf"front\s+desk|reception|\bcall\s+us\b|\b(?:the|our)\s+(?:[a-z]+\s+)?(?:{_PREMISES})\b|\border\s+line|"
    r"\bbookings?\b|\breservations?\b|enquir|inquir|\bsales\b|"
    r"热线|客服|服务电话|咨询|预订|预约|订购|订餐|订票|订座|订位|订房|订茶|门店|店铺|本店|门市|总机|前台|办公室|售后|投诉|商务|"
    r"合作|公司|总部|分店|专线|服务台|联系我们"
)
# A street address with a house number: "1184 Alder Court, Apt 3", "22 Birchwood Lane". A person's when
# the words before it say the parcel goes there or someone lives there, and nothing says it is the
# business's own (a store, a returns warehouse).
_STREET = re.compile(
    r"(?<![\w/#.-])\d{1,6}[a-z]?\s+(?:[a-z][a-z'-]{0,20}\.?\s+){1,4}?"
    r"(?:street|st|avenue|ave|road|rd|lane|ln|court|ct|drive|dr|boulevard|blvd|way|place|pl|terrace|ter|"
    r"circle|cir|crescent|close|parkway|pkwy|highway|hwy|square|sq|trail|row|mews|gardens|grove|green|rise|"
    r"walk|vale|hill)\b\.?"
    r"(?:,?\s*(?:apt|apartment|unit|suite|ste|flat|#)\.?\s*#?\s*[0-9a-z]{1,5}\b)?"
)
_ADDRESS_PERSONAL = re.compile(
    r"\b(?:your|his|her|their|my)\s+(?:home|house|place|flat|apartment|address|door|doorstep)\b|"
    r"\b(?:lives?|living|resides?|residing|home)\s+(?:at|on)\b|\baddress\s+on\s+file\b|"
    r"\b(?:on\s+(?:its|their)\s+way|ship(?:s|ped|ping)?|deliver(?:ed|ing|y)?|mail(?:ed)?|sent|send|dispatch(?:ed)?|"
    r"post(?:ed)?|going|headed|heading|forwarded|went|gone|goes)\s+(?:\w+\s+){0,2}?to\b|\barrived\s+at\b|"
    r"\b(?:from|at|of)\s+number\s*$|"  # "Margaret watching from number 9 Kestrel Way"
    # a prize winner's address, published with the win ("our giveaway winner Megan Thorley, 14 Larkspur
    # Close"; "直播间抽中的宝宝：……地址杭州市西湖区文三路100号")
    r"\bwinners?\b|抽中|中奖|获奖者|得奖者|幸运儿|"
    r"发往|寄往|寄到|寄至|送到|送至|派送至|配送至|发至|发到|收货地址|收件地址|家住|住址|住在|住喺|住係|家庭住址|您家|府上|您的地址|到家"
)
_ADDRESS_BUSINESS = re.compile(
    r"\b(?:our|the)\s+(?:[a-z]+\s+)?(?:"
    + _PREMISES
    + r"|headquarters|hq|factory|returns?\s+(?:centre|center|address|desk))\b|"
    r"\breturns?\b|\bvisit\b|\blocated\b|"
    r"\bfind\s+us\b|\bpick[\s-]?up\b|\bcollect(?:ion)?\b|\bopen(?:s|ing)?\b|"
    r"门店|店铺|本店|门市|总部|分店|公司|办公室|工厂|仓库|退货|售后|展厅|体验店|营业|自提"
)
# A Chinese address down to a house number ("文三路88号", "长乐路 120 弄 5 号 3 幢 502 室"): the span runs
# back over the place names before it and on over the building, unit and room after it.
_CN_ADDRESS = re.compile(
    r"[\u4e00-\u9fff]{0,3}(?:路|街|大道|道|巷|弄|胡同|里)(?:[一二三四五六七八九十]{1,3}段)?\s*\d{1,5}\s*(?:号|弄)"
    r"(?:\s*[\d一二三四五六七八九十]{1,4}\s*(?:号|幢|栋|号楼|单元|楼|层|室|座)){0,4}"
)
# A number stated as an example or a format, not as anyone's ("Phone (example): +1 555 0100").
_PLACEHOLDER_CONTEXT = re.compile(
    r"\b(?:e\.g\.|eg\.|for\s+example|for\s+instance|example\)|\(example|example\s*:|placeholder|sample|dummy|"
    r"fictional|replace\s+(?:it\s+|this\s+)?with\s+your|your\s+(?:own\s+)?(?:number|phone)\s+here|format)\b|"
    r"例如|比如|示例[:：(（]|样例|格式|占位|请替换|替换为"
)
# A licence or registration number written like a phone number ("licence No. SAMR-0000-2024-0155").
_REGISTRATION_CONTEXT = re.compile(
    r"licen[cs]e|permit|registration|\breg\.|certificate|cert\.|filing|approval\s+(?:no|number)|"
    r"许可证|执照|注册号|注册证|备案|批准文号|批文|信用代码|税号|登记号|证书|证号|编号"
)
# A clause ends at a stop, not at the dot of "No.", "Tel.", "e.g." or "St.".
_CLAUSE_END = re.compile(
    r"[。！？!?\n;；]|(?<!\bno)(?<!\btel)(?<!\breg)(?<!\be\.g)(?<!\bst)(?<!\bapt)(?<!\bext)\.\s"
)
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d )(?:(?:\+|00)\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])"
    r"\d{3,4}[\s.-]?\d{4}(?!\d| \d)"
    r"|(?<![\w])\+\d{8,15}(?![\d])"
    # a UK mobile as it is written: "07700 900482", "07700 900 482"
    r"|(?<![\w+])0\d{4}\s(?:\d{6}|\d{3}\s\d{3})(?![\d])"
)

# A value that only stands for a credential: "<your-key-here>", "${API_KEY}", "YOUR_TOKEN", "PASSWORD",
# "xxxx", "****9f2a" (masked). Documentation writes these; they leak nothing.
_PLACEHOLDER_SECRET = re.compile(
    # "%" marks a placeholder ("%DB_PASS%") unless it encodes a character in a URL ("Rk7%23mPq")
    r"[<>{}\[\]$]|%(?![0-9a-f]{2})|%[a-z_]+%|your[-_ ]|x{4,}|\*{3,}|•{3,}|\.{3}|redacted|placeholder",
    re.IGNORECASE,
)
_PLACEHOLDER_WORD = re.compile(
    r"(?:password|pass|passwd|pwd|secret|token|apikey|api_key|key|value|none|null|empty|user|username)"
)


def _placeholder(value: str) -> bool:
    value = value.strip("'\"`")
    return (
        bool(_PLACEHOLDER_SECRET.search(value))
        or re.fullmatch(r"[A-Z][A-Z_-]*", value) is not None
        or _PLACEHOLDER_WORD.fullmatch(value.lower()) is not None
    )


def _key_like(value: str) -> bool:
    """A token a machine made: letters and digits mixed, or long with mixed case or symbols."""
    value = value.strip("'\"`")
    if len(value) < 6 or _placeholder(value) or "//" in value:  # a URL is not a key
        return False
    if re.fullmatch(r"[a-z]+(?:[.-][a-z]+)+\.?", value):  # nor a host ("links only go to mossgate.example")
        return False
    alpha, digit = any(c.isalpha() for c in value), any(c.isdigit() for c in value)
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value)
    symbol = any(not c.isalnum() for c in value)
    return (alpha and digit) or (len(value) >= 16 and (mixed or symbol))


def _long_key_like(value: str) -> bool:
    return len(value.strip("'\"`")) >= 16 and _key_like(value)


def _not_placeholder(value: str) -> bool:
    return not _placeholder(value)


def _pin_given(found: str) -> bool:
    """A PIN and its number: "PIN 4821", "pin is 4821"; a lower-case "pin" and a number is a badge."""
    return found.startswith("PIN") or re.match(r"pin\s*[:：=]|pin\s+(?:is|was|to|set)\b", found) is not None


# A value right after a credential's name: up to the next space, quote, bracket or clause mark, and at
# most 200 characters, so a value that fails its check is rescanned (for a name inside it) a bounded
# number of times.
_V = r"['\"]?(?P<v>[^\s,;'\"，；。<>()（）]{6,200})"
_VALUE_GROUPS = ("v", "w", "x", "y", "b", "p")
# Each pattern's value (group ``v`` or another of _VALUE_GROUPS, read in the original text) must pass
# its check, where it has one.
_SECRETS: list[tuple[str, re.Pattern[str], Callable[[str], bool] | None]] = [
    ("secret.openai_key", re.compile(r"(?<![a-z0-9])s\s?k\s?-\s?(?:proj-|ant-)?[a-z0-9_-]{20,}"), None),
    ("secret.aws_key", re.compile(r"(?<![a-z0-9])(?:akia|asia)[0-9a-z]{16}(?![a-z0-9])"), None),
    (
        "secret.github_token",
        re.compile(r"(?<![a-z0-9])(?:gh[pousr]_[a-z0-9]{30,}|github_pat_[a-z0-9_]{30,})"),
        None,
    ),
    ("secret.slack_token", re.compile(r"(?<![a-z0-9])xox[abprs]-[a-z0-9-]{10,}"), None),
    ("secret.google_key", re.compile(r"(?<![a-z0-9])aiza[0-9a-z_-]{35}"), None),
    # A JSON header in base64 ("eyJ" is '{"') and two more parts: short payloads and signatures too.
    ("secret.jwt", re.compile(r"(?<![a-z0-9])eyj[a-z0-9_-]{10,}\.[a-z0-9_-]{2,}\.[a-z0-9_-]{6,}"), None),
    # Keys whose prefix names the service: Stripe secret and restricted keys, npm, GitLab, SendGrid,
    # Mailgun, Alibaba Cloud and Tencent Cloud access keys, Hugging Face, Shopify.
    (
        "secret.service_key",
        re.compile(
            r"(?<![a-z0-9])(?:(?:sk|rk)_(?:live|test)_[a-z0-9]{8,}|npm_[a-z0-9]{20,}|glpat-[a-z0-9_-]{20,}|"
            r"sg\.[a-z0-9_-]{16,}\.[a-z0-9_-]{16,}|key-[a-z0-9]{24,}|ltai[a-z0-9]{12,30}(?![a-z0-9])|akid[a-z0-9]{28,}|"
            r"hf_[a-z]{30,}|shp(?:at|ss|ca|pa)_[a-f0-9]{32})"
        ),
        None,
    ),
    ("secret.private_key", re.compile(r"-----begin [a-z0-9 ]*private key(?: block)?-----"), None),
    # The scheme starts where a run of scheme characters starts ("a.a.a…" must not retry at every letter).
    (
        "secret.url_credentials",
        re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^/\s:@]+:(?P<v>[^/\s@]{3,})@[^\s/]+"),
        _not_placeholder,
    ),
    (
        "secret.password",
        # Each run of spaces belongs to the token before it: three adjacent `\s*` made it cubic.
        re.compile(
            r"(?:密码|口令|密钥|秘钥|登录码)\s*(?:(?:已经?|已)?被?(?:重置|修改|改|设置|设|更新|变更)?"
            r"(?:照旧|照样|还是|依然|依旧|仍然|仍)?(?:成|为|是)了?\s*)?"
            r"(?:[:：=]\s*)?(?P<v>(?:(?![,;])[!-~]){6,})"
        ),
        _not_placeholder,
    ),
    (
        "secret.assignment",  # a name that ends in a credential word, then a value: appSecret=…, AccountKey=…
        re.compile(
            r"(?<![a-z0-9_.-])[a-z0-9_.-]{0,32}?(?:secret|key|token|password|passwd|pwd|passphrase|credentials?|"
            rf"access[_ -]?key[_ -]?id)s?\s*[:=：]\s*{_V}"
        ),
        _key_like,
    ),
    (
        "secret.password",  # "your temporary password is Welcome#2024", "password for the press kit: …"
        re.compile(
            r"(?<![a-z])(?:password|passcode|passphrase|passwd|pwd|pass)\b[^:：=\n.!?@/<>'\"]{0,40}?"
            rf"(?:\s(?:is|was|to|reads|na)\s+|['’]s\s+|[:：=]\s*){_V}"  # "na": "is" in Nigerian Pidgin
        ),
        _key_like,
    ),
    (
        "secret.password",  # written as chat: "password Sunflower!2024", "Wi-Fi: Staff / pw t3ach3rsOnly#9"
        re.compile(rf"(?<![a-z])(?:password|passwd|pwd|pw)\s+{_V}"),
        _key_like,
    ),
    (
        "secret.one_time_code",  # a code someone is asked to read back: "your code is 482913 … read it back"
        re.compile(
            r"(?<![a-z])code\s+(?:is|was|[:：])\s*(?P<v>\d{4,8})(?![\d])"
            r"(?=[^\n]{0,80}?(?:read\s+it|tell\s+(?:me|us)|send\s+(?:it|me)|give\s+(?:it|me)|share\s+it|念给|告诉我|发给我))"
        ),
        None,
    ),
    (
        "secret.password",  # a login and its password: "login: shop_admin / Spring#24"
        re.compile(
            r"(?<![a-z])(?:log[\s-]?in|sign[\s-]?in|credentials?|账号|帐号|登录|登陆)[^:：\n/]{0,40}?"
            r"(?:[:：]|\s(?:is|with|using|as)|用)\s*"
            rf"[^\s/]{{3,40}} ?/ ?{_V}"
        ),
        _key_like,
    ),
    (
        "secret.password",  # a password on a command line
        re.compile(
            r"(?:--(?:password|passwd|pass|token|api-key|apikey|secret|client-secret|auth-token)(?:=|\s+)|"
            r"\bredis-cli\b[^\n]{0,80}?\s-a\s+|\bmysql\b[^\n]{0,60}?\s-p)(?P<v>[^\s'\"]{6,})"
        ),
        _not_placeholder,
    ),
    (
        "secret.password",  # a user name and its password: "user ops-admin / pass Lw!Harbour2025"
        re.compile(
            r"(?<![a-z])(?:user(?:name)?|usr|id|账号|帐号|用户名)\s*[:：]?\s*[^\s/]{3,40} ?/ ?"
            rf"(?:pass(?:word)?|pwd|pw|密码)\s*[:：]?\s*{_V}"
        ),
        _key_like,
    ),
    (
        "secret.spaced",  # a credential spelt out letter by letter to slip past a scanner: "key = A K I A …"
        re.compile(
            r"(?<![a-z])(?:key|token|secret|password|passcode|passwd|pwd|密码|口令|密钥|秘钥)"
            r"[^\n]{0,24}?(?P<v>(?:[a-z0-9!#$%&*@] ){7,63}[a-z0-9!#$%&*@])(?![a-z0-9])"
        ),
        None,
    ),
    (
        "secret.encoded",  # a credential pasted encoded: "the API token is base64-encoded …: cGstbGl2…"
        re.compile(
            r"(?<![a-z0-9])base64(?![a-z0-9])[^\n]{0,80}?[:：=]\s*(?P<v>[a-z0-9+/]{16,200}={0,2})(?![a-z0-9+/=])"
        ),
        _key_like,
    ),
    (
        "secret.one_time_code",  # backup codes in Chinese: "两步验证备用码：4829-1173、6650-2091"
        re.compile(
            r"(?:备用码|恢复码|备份码|救援码|应急码)[^\n。！？!?]{0,20}?(?:[:：]|是|为)\s*"
            r"(?P<y>\d{4}(?:[- ]?\d{4}){1,3})(?![\d])"
        ),
        None,
    ),
    (
        "secret.one_time_code",  # a PIN, a one-time or verification code, a gift card's secret
        re.compile(
            r"(?<![a-z])(?:otp|one-time\s+(?:code|password|passcode|pin)|verification\s+code|security\s+code|"
            r"login\s+code|2fa\s+code|sms\s+code)(?:\s+(?:is|was|to|set\s+to)\s+|\s*[:：=]\s*|\s+)"
            r"(?P<v>\d{4,8}|\d{3,4}[ -]\d{3,4})(?![\d])|"  # "482 913", as an app shows it
            # the code's name, then what it is for: "2FA code for the ads account is 604 118"
            r"(?:2fa|otp|login|sms|verification|one-time)\s+code\s+(?:for|to)\b[^\n.!?:：\d]{0,40}?"
            r"(?:\s(?:is|was)\s+|[:：=]\s*)(?P<b>\d{6}|\d{3}[ -]\d{3})(?![\d])|"
            # a backup or recovery code in groups: "the 2FA backup code for the inbox: 7391-2046-5518"
            r"(?:backup|recovery)\s+codes?\b[^\n.!?:：]{0,40}[:：]\s*(?P<y>\d{4}(?:[- ]\d{4}){1,3})(?![\d])|"
            # the digits may be spaced out to dodge a filter ("验证码是 7 3 5 2 0 1")
            r"(?:验证码|动态码|校验码|动态密码|短信码)(?:是|为)?(?:\s*[:：])?\s*"
            r"(?P<w>\d(?: ?\d){3,7})(?![\d])|"
            r"卡密(?:\s*(?:是|为))?(?:\s*[:：])?\s*(?P<x>[a-z0-9][a-z0-9-]{5,})"
        ),
        None,
    ),
    (
        "secret.one_time_code",  # a meeting's or a door's numeric passcode: "Zoom passcode 是884213"
        re.compile(
            r"(?<![a-z])(?:passcode|pass\s+code|host\s+key|meeting\s+password|door\s+code|gate\s+code)"
            r"(?:\s+(?:is|was|to)\s+|\s*(?:是|为)?\s*[:：=]?\s*)(?P<v>\d{4,10})(?![\d])|"
            r"(?:会议密码|入会密码|房间密码|门禁密码|开锁密码|门锁密码|主持人密钥)(?:\s*(?:是|为))?(?:\s*[:：])?\s*(?P<w>\d{4,10})(?![\d])"
        ),
        None,
    ),
    (
        "secret.one_time_code",  # "PIN 4821", "PIN is 2580" (an "enamel pin 2024" is a badge)
        re.compile(r"(?<![a-z])(?P<p>pin(?:\s+(?:is|was|to|set\s+to)\s+|\s*[:：=]\s*|\s+)\d{4,8})(?![\d])"),
        _pin_given,
    ),
    (
        "secret.assignment",  # "the Twilio auth token so you can send the SMS blast: 0000…", "Bearer 3f9a…"
        re.compile(
            # "…: value" or "… is value" ("staging key is hl_live_sk_7Fq2…", "the API token is lp_tok_9f83…")
            r"(?:(?<![a-z0-9_])(?:key|token|secret|credentials?)\b|令牌|密钥|秘钥)[^:：=\n.!?@/<>'\"]{0,40}?(?:[:：=]|\s(?:is|was)|\s?是)\s*"
            + _V
            + r"|(?<![a-z])bearer\s+(?P<b>[a-z0-9._~+/-]{16,}=*)"
        ),
        _long_key_like,
    ),
]


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _cn_id_checksum(number: str) -> bool:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
    return "10x98765432"[total % 11] == number[17]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def contact_spans(folded: Folded) -> list[tuple[int, int]]:
    """Spans (original text) of every e-mail address and phone number, allowed or not."""
    return [span for span, _ in contacts(folded)]


# A North American toll-free number as copy writes it, also spelt in letters or short of a digit:
# "1-800-Hearth (1-800-437-432)" was a Hearthline reply's invented hotline (2026-12-04, seed 7), which
# no phone pattern read as a number. Only with the leading 1: "800 watts" is a wattage.
_TOLL_FREE = re.compile(
    r"(?<![\w+,.])1[\s.-]?8(?:00|88|77|66|55|44|33)(?:[\s.-]\d{3}[\s.-]?\d{3,4}|-[a-z][a-z0-9]{3,9})\b"
)


def contacts(folded: Folded) -> list[tuple[tuple[int, int], str]]:
    """Each e-mail address and phone number: its span (original text) and a key to compare it by (the
    address in lower case, the number's digits, or a toll-free number as written without separators)."""
    found: list[tuple[tuple[int, int], str]] = []
    for pattern in (_EMAIL, _CN_MOBILE, _HOTLINE, _PHONE, _LANDLINE, _INTL_NUMBER, _TOLL_FREE):
        for m in pattern.finditer(folded.text):
            span = folded.span(*m.span())
            if pattern is _TOLL_FREE:
                if any(a < span[1] and span[0] < b for (a, b), _ in found):
                    continue  # already read as a phone number
                key = re.sub(r"[\s.-]", "", m.group())
            else:
                key = m.group().casefold() if pattern is _EMAIL else _digits(m.group())
            found.append((span, key))
    return found


def same_contact(key: str, known: set[str]) -> bool:
    """Whether a :func:`contacts` key is one of ``known``: the same address, or a number one of them ends
    with or is the end of (a country or area code written or left out), seven digits at least."""
    if "@" in key:
        return key in known
    return any(
        k == key or (min(len(k), len(key)) >= 7 and (k.endswith(key) or key.endswith(k)))
        for k in known
        if "@" not in k
    )


# Identifiers that state no quantity: a masked card or account tail, a tracking, order, invoice, licence
# or registration number, a discount code, a masked IP address.
_REFERENCE = re.compile(
    r"(?:尾号|末四位|后四位|\bending\s+(?:in|with)|\bends\s+in|\blast\s+(?:4|four)\s+digits)(?:\s*[:：])?\s*\d{3,6}(?![\d])|"
    r"(?:\b(?:tracking|order|invoice|reference|ref\.|confirmation|booking|ticket|case|policy|serial|licen[cs]e|"
    r"permit|registration|reg\.)(?:\s+(?:number|no\.?|id|code))?|\bno\.|运单号|快递单号|订单号|发票号码?|单号|工单号?|编号|"
    r"备案号|注册号|批准文号|信用代码|证号|流水号|批号)(?:\s*[:：#])?\s*[a-z\u4e00-\u9fff-]{0,8}\d[a-z0-9-]{2,30}|"
    r"(?:\b(?:(?:promo|discount|coupon|voucher)\s+)?code|优惠码|折扣码|兑换码|券码|邀请码)(?:\s*[:：])?\s*[a-z]{0,12}\d{1,6}[a-z0-9]{0,8}\b|"
    r"(?<![\d.])\d{1,3}\.\d{1,3}\.(?:\d{1,3}|\*)\.\*"
)


def reference_spans(folded: Folded) -> list[tuple[int, int]]:
    """Spans (original text) of identifiers that are no figure to substantiate: masked card tails
    ("尾号1234", "ending in 0004"), tracking, order, invoice, licence and registration numbers, discount
    codes and masked IP addresses. Like :func:`contact_spans`, a mask for claim extraction."""
    return [folded.span(*m.span()) for m in _REFERENCE.finditer(folded.text)]


def _clause_before(text: str, start: int, reach: int = 48) -> str:
    """Up to ``reach`` characters before ``start``, from the last clause end on."""
    window = text[max(0, start - reach) : start]
    ends = [m.end() for m in _CLAUSE_END.finditer(window)]
    return window[ends[-1] :] if ends else window


def _clause_after(text: str, end: int, reach: int = 24) -> str:
    window = text[end : end + reach]
    m = _CLAUSE_END.search(window)
    return window[: m.start()] if m else window


def _business_email(address: str) -> bool:
    """A role mailbox: a function's address, not a person's ("support@", "kefu01@", "billing-eu@")."""
    local = address.partition("@")[0]
    first = re.split(r"[._+-]", local)[0].rstrip("0123456789")
    return bool(_ROLE_MAILBOX.fullmatch(local) or _ROLE_MAILBOX.fullmatch(first))


def _not_personal_number(before: str, after: str, sentence: str) -> bool:
    """A number the copy states as a licence or registration number, as an example, or as the
    business's own line (with nothing around it saying it is someone's)."""
    # a registration label counts in the number's own part of the clause: in "准考证号…，家长电话0912-345-678"
    # the phone is the parent's, whatever the admission number before it was
    own = re.split(r"[,，、]", before)[-1]
    if _REGISTRATION_CONTEXT.search(own[-24:]) or _PLACEHOLDER_CONTEXT.search(sentence):
        return True
    personal = _PERSONAL_CONTEXT.search(before) or _PERSONAL_CONTEXT.search(after)
    if personal:
        return False
    if _BUSINESS_CONTEXT.search(before):
        return True
    # "Email support@… or call …": offered next to the business's own mailbox, it is the business's line.
    return any(_business_email(m.group()) for m in _EMAIL.finditer(before))


# A person's name and "of" or "from" right before a street address: "Priya Nair of 22 Mill Lane".
_NAMED_PERSON_OF = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr)?\.?\s*[A-Z][a-z]+(?:\s+[A-Z][a-z'’-]+)?\s+(?:of|from)\s+$"
)
_CN_RESIDENT_AFTER = re.compile(
    r"\s*的[\u4e00-\u9fff]{1,4}(?:女士|先生|小姐|同学|阿姨|叔叔|老师|奶奶|爷爷|大爷|大妈|阿婆|婆婆|大姐|大哥)"
)
# A flat in a housing estate, by building and room ("翠苑二区7幢401"): where someone lives when the words
# before say "住" or a person is named right after it.
_CN_FLAT = re.compile(r"\d{1,3}\s*(?:幢|栋|号楼)\s*(?:\d{1,2}\s*单元\s*)?\d{3,4}\s*室?(?![\d])")
_CN_ADDRESS_LEAD = re.compile(r"[\u4e00-\u9fff]{1,16}$")
# A customer named, then an address in brackets: "感谢买家刘晓梅（杭州市西湖区文三路478号3幢1502室）的好评"
# (the eleventh blind set, since stop 49).
_CN_NAMED_BEFORE = re.compile(
    r"(?:买家|顾客|客户|学员|会员|粉丝|用户|家长|宝妈)[\u4e00-\u9fff]{2,4}\s*[（(][\u4e00-\u9fff]{0,16}$"
)
_CN_LIVES_AT = re.compile(r"住(?:在|喺|係)")
_CN_CUE_END = re.compile(r".*(?:往|到|至|在|址|喺)")


def _street_addresses(folded: Folded) -> list[tuple[int, int]]:
    """House-number addresses the words before them make a person's: "on its way to 1184 Alder Court",
    "已发往杭州市西湖区文三路88号3幢502室". The business's own (a store, a returns address) are not."""
    text, found = folded.text, list[tuple[int, int]]()
    for m in _STREET.finditer(text):
        # the street's name is a name: "20 minutes drive" is no address
        words = folded.original(*m.span()).split()[1:-1]
        if not words or not all(w[:1].isupper() for w in words):
            continue
        before = _clause_before(text, m.start(), reach=80)
        # "Shout-out to Priya Nair of 22 Mill Lane": a person named, then where she lives
        named = _NAMED_PERSON_OF.search(folded.original(max(0, m.start() - 40), m.start()))
        if (_ADDRESS_PERSONAL.search(before) or named) and not _ADDRESS_BUSINESS.search(before):
            found.append(m.span())
    for m in _CN_ADDRESS.finditer(text):
        before = _clause_before(text, m.start(), reach=40)
        residence = re.search(r"室|单元", m.group()) and re.search(r"女士|先生|小姐|您", before)
        # "……216号7楼的林美玲小姐": the address of the person named right after it
        residence = residence or _CN_RESIDENT_AFTER.match(text, m.end()) or _CN_NAMED_BEFORE.search(before)
        # "住喺观塘道120号": the span's place-name run may have taken the "喺" of the cue
        residence = residence or _CN_LIVES_AT.search(text, max(0, m.start() - 2), m.start() + 1)
        if (_ADDRESS_PERSONAL.search(before) or residence) and not _ADDRESS_BUSINESS.search(before):
            lead = _CN_ADDRESS_LEAD.search(text, 0, m.start())  # the place names before the road
            start = m.start()
            if lead:
                cue = _CN_CUE_END.match(lead.group())
                start = lead.start() + (cue.end() if cue else 0)
            found.append((start, m.end()))
    for m in _CN_FLAT.finditer(text):
        lead = _CN_ADDRESS_LEAD.search(text, 0, m.start())
        before = _clause_before(text, m.start(), reach=40)
        told = lead is not None and re.search(r"(?<![记抓挺顶])住", lead.group()) is not None
        told = told or bool(_ADDRESS_PERSONAL.search(before)) or bool(_CN_RESIDENT_AFTER.match(text, m.end()))
        told = told or bool(_CN_NAMED_BEFORE.search(before))
        if told and not _ADDRESS_BUSINESS.search(before) and not any(a <= m.start() < b for a, b in found):
            found.append((lead.start() if lead else m.start(), m.end()))
    return found


def personal_data(folded: Folded, allowed_contacts: list[str]) -> list[Hit]:
    """E-mail addresses, phone numbers (Chinese mobiles included), ID, social-security and card numbers,
    identity documents named with their number.

    Contacts the brand publishes (``allowed_contacts``) are not personal data, and neither are a
    business's contacts when no list is given: role mailboxes (support@, billing@, kefu@ …), 400/800
    hotlines and toll-free numbers, a number or address the copy offers as the business's line with
    nothing saying it is a person's, example numbers, and licence numbers shaped like phone numbers.
    A Chinese mobile number is always a person's unless listed or labelled as a registration number.
    """
    allowed_emails = {c.casefold() for c in allowed_contacts if "@" in c}
    allowed_numbers = {_digits(c) for c in allowed_contacts if "@" not in c and _digits(c)}
    hits: list[Hit] = []
    taken = Coverage(len(folded.text))

    def add(rule_id: str, what: str, m: re.Match[str] | tuple[int, int]) -> None:
        at = m if isinstance(m, tuple) else m.span()
        if taken.overlaps(*at):
            return
        taken.add(*at)
        hits.append(
            Hit(
                rule_id,
                "pii",
                "block",
                folded.span(*at),
                folded.original(*at),
                f"contains {what}: personal data must not be published in marketing copy",
                "remove it (the brand's public contacts can be listed in compliance.allowed_contacts)",
                _PII_LAW,
            )
        )

    text = folded.text
    for m in _EMAIL.finditer(text):
        if m.group().casefold() in allowed_emails or _business_email(m.group()):
            taken.add(*m.span())
            continue
        add("pii.email", "an e-mail address", m)
    for m in _EMAIL_SPELLED.finditer(text):
        add("pii.email", "an e-mail address written to dodge filters", m)
    for m in (*_CN_ID.finditer(text), *_CN_ID_LABELLED.finditer(text)):
        # a number shown as the format to fill in ("填写示例：…身份证号 110101…（仅为格式示例）"): nobody's
        if _PLACEHOLDER_CONTEXT.search(text[max(0, m.start() - 60) : m.end() + 30]):
            taken.add(*m.span())
            continue
        digits = _digits(m.group()) + ("x" if m.group().endswith("x") else "")
        checked = (
            "a national ID number"
            if len(digits) == 18 and _cn_id_checksum(digits)
            else ("what looks like a national ID number")
        )
        add("pii.cn_id", checked, m)
    for m in _US_SSN.finditer(text):
        add("pii.us_ssn", "a social security number", m)
    for m in _ID_DOCUMENT.finditer(text):
        if sum(ch.isdigit() for ch in m.group(1)) >= 4:
            add("pii.id_document", "an identity document's number", m)
    for m in _PARTIAL_ID.finditer(text):
        add("pii.id_document", "part of an identity number", m)
    for m in _BIRTH_DATE.finditer(text):
        add("pii.birth_date", "a person's date of birth", m)
    for m in _BIRTH_DATE_TOLD.finditer(text):
        add("pii.birth_date", "a person's date of birth", m)
    for m in _NUMERAL_RUN.finditer(text):
        if _CN_MOBILE.fullmatch(m.group().translate(_NUMERALS)):
            add("pii.cn_mobile", "a mobile number written in Chinese numerals", m)
    for m in _LABELLED_ACCOUNT.finditer(text):
        add("pii.account_number", "a bank card or account number", m)
    for span in _street_addresses(folded):
        add("pii.address", "a private address (where a parcel goes or someone lives)", span)
    for m in _HOTLINE.finditer(text):  # a business's number: never a person's, never part of another
        taken.add(*m.span())
    for m in _CARD.finditer(text):
        digits = _digits(m.group())
        if 13 <= len(digits) <= 19 and _luhn(digits) and not _CN_MOBILE.fullmatch(m.group()):
            add("pii.payment_card", "a payment card number", m)
    for m in _CARD_EXPIRY.finditer(text):
        add("pii.payment_card", "a payment card number with its expiry", m)
    for m in _LABELLED_CARD.finditer(text):
        add("pii.payment_card", "a payment card number", m)
    phones = ((_CN_MOBILE, "pii.cn_mobile"), (_LANDLINE, "pii.phone"), (_PHONE, "pii.phone"))
    for pattern, rule_id in (*phones, (_LABELLED_PHONE, "pii.phone")):
        for m in pattern.finditer(text):
            digits = _digits(m.group())
            if any(digits.endswith(a) or a.endswith(digits) for a in allowed_numbers if len(a) >= 7):
                taken.add(*m.span())
                continue
            before = _clause_before(text, m.start())
            if pattern is _CN_MOBILE:
                # a person's unless labelled as something else ("registration no. 17654321098")
                fine = bool(_REGISTRATION_CONTEXT.search(before[-24:]))
            else:
                after = _clause_after(text, m.end())
                fine = not taken.overlaps(*m.span()) and _not_personal_number(
                    before, after, before + m.group() + after
                )
            if fine:
                taken.add(*m.span())
                continue
            add(rule_id, "a phone number", m)
    return hits


def secrets(folded: Folded) -> list[Hit]:
    """API keys, tokens, private keys, passwords and one-time codes given with their value.

    A value that only stands for one (``<your-key-here>``, ``${API_KEY}``, ``USER:PASSWORD``, a masked
    ``****9f2a``) is documentation, not a leak; a name-and-value pair needs a value a machine made.
    """
    hits: list[Hit] = []
    taken = Coverage(len(folded.text))  # in folded coordinates, like the matches
    text = folded.text
    for rule_id, pattern, check in _SECRETS:
        at = 0
        while (m := pattern.search(text, at)) is not None:
            at = m.end()
            if taken.overlaps(*m.span()):
                continue
            group = next((g for g in _VALUE_GROUPS if g in pattern.groupindex and m.group(g)), None)
            if check is not None and group is not None and not check(folded.original(*m.span(group))):
                # The value may hold a name of its own ("key: X-Api-Key: …"): look again from it.
                at = max(m.start(group), m.start() + 1)
                continue
            taken.add(*m.span())
            hits.append(
                Hit(
                    rule_id,
                    "secret",
                    "block",
                    folded.span(*m.span()),
                    folded.original(*m.span()),
                    "contains what looks like a credential; published keys are compromised keys",
                    "remove it and rotate the credential",
                )
            )
    return hits


def injected_text(folded: Folded) -> list[Hit]:
    """Instructions or canary strings that came from a knowledge document, not from the brief."""
    found = [(span, "an instruction to a model or to the review") for span in instruction_spans(folded.text)]
    found += [(m.span(), "a canary") for m in CANARY.finditer(folded.text)]
    hits = [
        Hit(
            "safety.injected_text",
            "prompt_injection",
            "block",
            folded.span(*span),
            folded.original(*span),
            f"contains {what}: copy and knowledge documents are data, never instructions",
            "remove the sentence",
        )
        for span, what in found
    ]
    taken = Coverage(len(folded.source))
    for hit in hits:
        taken.add(*hit.span)
    for start, end in hidden_instruction_spans(folded.source):  # already in original coordinates
        if not taken.overlaps(start, end):
            hits.append(
                Hit(
                    "safety.injected_text",
                    "prompt_injection",
                    "block",
                    (start, end),
                    folded.source[start:end],
                    "contains an instruction hidden in base64: copy is data, never instructions",
                    "remove it",
                )
            )
    return hits


# --- Markup -----------------------------------------------------------------------------------------

_DANGEROUS_TAGS = (
    "script|iframe|object|embed|style|form|input|button|link|meta|svg|math|base|frame|frameset|applet"
)
# Markup patterns scan to the next ">" or ")" from every "<" or "[": with backtracking that is quadratic
# on "<<<<…" or "[[[[…", so they run on RE2. `_S` is Python's `\s` (RE2's is ASCII only). Attributes
# may follow a tag name after a space or a "/" (`<img/src/onerror=…>` is an event handler too).
_S = f"[{RE2_SPACE}]"
# Where a dangerous tag opens or closes: a "<", spaces, a name, so Python's `re` is linear here (each
# run of spaces is scanned from the one "<" before it) and cheaper per match than RE2's binding.
_DANGEROUS_OPEN = re.compile(rf"<\s*({_DANGEROUS_TAGS})\b", re.IGNORECASE)  # it ends at the next ">"
_DANGEROUS_CLOSE = re.compile(rf"<\s*/\s*({_DANGEROUS_TAGS})\s*>", re.IGNORECASE)
_DANGEROUS_TAG = linear_regex(rf"(?i)<{_S}*/?{_S}*({_DANGEROUS_TAGS})\b[^>]*>")
_EVENT_ATTR = linear_regex(rf"(?i)<[^>]*[{RE2_SPACE}/]on[a-z]+{_S}*=[^>]*>")
_TAG = linear_regex(rf"(?is)<{_S}*/?{_S}*[a-z][a-z0-9-]*(?:[{RE2_SPACE}/][^<>]*)?/?{_S}*>|<!--.*?-->")
# A URL that runs code: a script scheme followed by its code ("JavaScript: the basics" and a "JavaScript
# course" are words, not URLs), or a data: URL of a type that can carry script. Browsers drop tabs and
# line breaks anywhere in a URL, so they may sit inside the scheme ("java\tscript:"); character
# references are decoded before this runs (:class:`_Decoded`). Each gap is a run of characters that no
# letter of the scheme is, so the pattern cannot backtrack.
_URL_GAP = "[\t\n\r]*"
_SCRIPT_URL = re.compile(
    r"(?<![a-z0-9])(?:"
    + "|".join(_URL_GAP.join(scheme) for scheme in ("javascript", "vbscript", "livescript"))
    + rf"){_URL_GAP} *:(?=\S)[^\s)\]\"'>]*"
    r"|(?<![a-z0-9])data[ \t]*:[ \t]*"
    r"(?:text/html|text/javascript|text/xml|image/svg\+xml|application/[a-z0-9.+-]+)[^\s)\]\"'>]*",
    re.IGNORECASE,
)
# A character reference or a percent escape: how "&#106;avascript:", "&#x6A;…", "%6A…" and
# "&lt;script&gt;" hide markup from a filter that reads the text as written.
_CHAR_REF = re.compile(r"&(?:#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});?|%[0-9a-f]{2}", re.IGNORECASE)


class _Decoded:
    """``text`` with character references and percent escapes decoded (twice, for "&amp;#106;"), and
    for each decoded character the original span it came from."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: Sequence[int] = range(len(text))
        self._ends: Sequence[int] = range(1, len(text) + 1)
        for _ in range(2):
            if not self._decode_once():
                break

    def _decode_once(self) -> bool:
        text, starts, ends = self.text, self._starts, self._ends
        parts: list[str] = []
        new_starts, new_ends = array("q"), array("q")
        at = 0
        for m in _CHAR_REF.finditer(text):
            ref = m.group()
            if ref[0] == "%":
                code = int(ref[1:], 16)
                value = chr(code) if code < 0x80 else ref
            else:
                value = html.unescape(ref)
            if value == ref:
                continue
            parts.append(text[at : m.start()])
            new_starts.extend(starts[at : m.start()])
            new_ends.extend(ends[at : m.start()])
            parts.append(value)
            new_starts.extend([starts[m.start()]] * len(value))
            new_ends.extend([ends[m.end() - 1]] * len(value))
            at = m.end()
        if not parts:
            return False
        parts.append(text[at:])
        new_starts.extend(starts[at:])
        new_ends.extend(ends[at:])
        self.text, self._starts, self._ends = "".join(parts), new_starts, new_ends
        return True

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of decoded ``[start, end)`` (non-empty)."""
        return self._starts[start], self._ends[end - 1]


def _script_url(url: str) -> bool:
    """Whether ``url`` (a link or image target as written) runs code once a browser has decoded it."""
    decoded = _Decoded(url).text
    return bool(_SCRIPT_URL.match("".join(ch for ch in decoded if ch > " ")))


_URL_IN_PARENS = (
    rf"((?:[^(){RE2_SPACE}>]|\([^(){RE2_SPACE}]*\))*)"  # one level of parentheses: javascript:alert(1)
)
_MD_IMAGE = linear_regex(rf"!\[([^\]]*)\]\({_S}*<?{_URL_IN_PARENS}>?(?:{_S}+[^)]*)?\)")
# A "[" right after "!" starts an image, not a link: RE2 has no lookbehind, so such matches are dropped.
_MD_LINK = linear_regex(rf"\[([^\]]+)\]\({_S}*<?{_URL_IN_PARENS}>?(?:{_S}+[^)]*)?\)")
_BARE_URL = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>()\[\]\"'，。！？、）]+", re.IGNORECASE)
# A web address written without a scheme ("Clearleaf.blog", "qingyu.example.com/camp"): readers type it and
# platforms link it. A Clearleaf e-mail of stop 43 sent readers to "our blog post at Clearleaf.blog", a
# host the brand does not have. Its last label is a common top-level domain written in lower case, so
# "Node.js", "ASP.NET", "3.5" and "report.pdf" are no address; an e-mail address is personal data's.
_TLDS = (
    "com|net|org|edu|gov|io|co|ai|app|blog|shop|store|online|site|info|biz|me|tv|us|uk|cn|de|fr|jp|kr|hk|"
    "tw|sg|au|ca|eu|nz|es|it|nl|ru|br|ch|se|dk|fi|pl|dev|page|link|club|xyz|top|vip|cc|example|test"
)
_BARE_HOST = re.compile(
    r"(?<![A-Za-z0-9@./_\-])(?=[A-Za-z0-9\-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9\-]{1,62}"
    rf"(?:\.[A-Za-z0-9][A-Za-z0-9\-]{{0,62}}){{0,4}}\.(?:{_TLDS})(?![A-Za-z0-9\-@])"
    r"(?:/[^\s<>()\[\]\"'，。！？、）]*)?"
)


_XSS = "CMS/XSS safety: content must not carry executable markup"
_EXECUTABLE = "contains executable markup (script, frame, embedded object or event handler)"


def host_allowed(url: str, allowed_hosts: list[str]) -> bool:
    """Whether ``url`` points at an allowed host or a subdomain of one (relative links count as allowed)."""
    url = url.strip()
    if url.lower().startswith("www."):
        url = "http://" + url
    if url.startswith(("/", "#", "mailto:", "tel:")) and not url.startswith("//"):
        return not url.startswith(("mailto:", "tel:"))
    try:
        host = (urlsplit(url if "//" in url else "http://" + url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    return any(host == h.lower() or host.endswith("." + h.lower()) for h in allowed_hosts)


def _dangerous_blocks(text: str) -> list[tuple[int, int]]:
    """Spans of ``<script …>…</script>`` (and the other dangerous tags), from an opening tag to the
    first closing tag of the same name after it: what ``<(tag)…>.*?</\\1>`` finds, found without a
    backreference and without rescanning the text from every opening tag."""
    closers: dict[str, list[int]] = {}
    closer_ends: dict[str, list[int]] = {}
    for m in _DANGEROUS_CLOSE.finditer(text):
        closers.setdefault(m.group(1).lower(), []).append(m.start())
        closer_ends.setdefault(m.group(1).lower(), []).append(m.end())
    tag_ends = [m.start() for m in re.finditer(">", text)]
    blocks: list[tuple[int, int]] = []
    last_end = 0
    for m in _DANGEROUS_OPEN.finditer(text):  # openers cannot overlap: each holds a single "<"
        gt = bisect.bisect_left(tag_ends, m.end())
        if m.start() < last_end or gt == len(tag_ends):
            continue
        name = m.group(1).lower()
        starts = closers.get(name, [])
        i = bisect.bisect_left(starts, tag_ends[gt] + 1)
        if i < len(starts):
            blocks.append((m.start(), closer_ends[name][i]))
            last_end = closer_ends[name][i]
    return blocks


def sanitize_markup(text: str, allowed_hosts: list[str]) -> tuple[str, list[Hit]]:
    """Strip HTML and links/images to disallowed hosts. Returns the clean text and what was removed.

    Spans in the hits refer to ``text`` as given. Scripts, event handlers and ``javascript:`` URLs are
    ``block``; other tags are ``warn`` (harmless once stripped); links and images to hosts outside
    ``allowed_hosts`` are ``block`` — the cleaned text keeps a link's words and drops its target.
    """
    hits: list[Hit] = []
    # (start, end, replacement) edits on the original text; later passes skip what earlier ones cover.
    edits: list[tuple[int, int, str]] = []
    taken = Coverage(len(text))

    def strip(
        span: tuple[int, int], replacement: str, rule_id: str, severity: str, why: str, fix: str
    ) -> None:
        if taken.overlaps(*span):
            return
        taken.add(*span)
        edits.append((span[0], span[1], replacement))
        law = _XSS if rule_id == "safety.script" else None
        hits.append(Hit(rule_id, "unsafe_markup", severity, span, text[span[0] : span[1]], why, fix, law))

    def foreign(url: str) -> bool:
        return _script_url(url) or not host_allowed(url, allowed_hosts)

    link_fix = "keep the words, drop the link, or add the host to compliance.allowed_hosts"
    spans = _dangerous_blocks(text)
    spans += [m.span() for pattern in (_DANGEROUS_TAG, _EVENT_ATTR) for m in pattern.finditer(text)]
    # The same markup behind character references ("&lt;script&gt;"), which a CMS may decode.
    decoded = _Decoded(text) if "&" in text or "%" in text else None
    if decoded is not None and decoded.text != text:
        spans += [decoded.span(*span) for span in _dangerous_blocks(decoded.text)]
        spans += [
            decoded.span(*m.span())
            for pattern in (_DANGEROUS_TAG, _EVENT_ATTR)
            for m in pattern.finditer(decoded.text)
        ]
    for span in spans:
        strip(span, "", "safety.script", "block", _EXECUTABLE, "remove it; publish plain text")
    for m in _MD_IMAGE.finditer(text):
        if foreign(m.group(2)):
            why = f"embeds an image from a host the brand does not allow ({m.group(2)!r})"
            strip(
                m.span(),
                "",
                "safety.image_host",
                "block",
                why,
                "remove the image or host it on an allowed domain",
            )
    for m in _MD_LINK.finditer(text):
        if text[m.start() - 1 : m.start()] != "!" and foreign(m.group(2)):
            why = f"links to a host the brand does not allow ({m.group(2)!r})"
            strip(m.span(), m.group(1), "safety.link_host", "block", why, link_fix)
    if decoded is not None and decoded.text != text:
        script_urls = [decoded.span(*m.span()) for m in _SCRIPT_URL.finditer(decoded.text)]
    else:
        script_urls = [m.span() for m in _SCRIPT_URL.finditer(text)]
    for span in script_urls:
        strip(span, "", "safety.script", "block", "contains a script URL", "remove it")
    for m in _BARE_URL.finditer(text):
        url = m.group().rstrip(".,;:!?")
        if not host_allowed(url, allowed_hosts):
            why = f"links to a host the brand does not allow ({url!r})"
            strip((m.start(), m.start() + len(url)), "", "safety.link_host", "block", why, link_fix)
    for m in _BARE_HOST.finditer(text):
        address = m.group().rstrip(".,;:!?")
        if not host_allowed(address, allowed_hosts):
            why = f"sends readers to a web address the brand does not allow ({address!r})"
            strip((m.start(), m.start() + len(address)), "", "safety.link_host", "block", why, link_fix)
    for m in _TAG.finditer(text):
        strip(
            m.span(),
            "",
            "safety.html",
            "warn",
            "contains HTML markup; channels take plain text",
            "remove the tags",
        )
    parts: list[str] = []  # one join, not a new copy of the text per edit
    at = 0
    for start, end, replacement in sorted(edits):
        parts += [text[at:start], replacement]
        at = end
    clean = "".join(parts) + text[at:]
    if edits:
        clean = re.sub(r"[ \t]{2,}", " ", clean).strip()
    return clean, hits


def instruction_in(text: str) -> str | None:
    """The sentence of ``text`` (as written, at most 200 characters) that holds instruction-like or canary
    text, or None: the compliance checker's own detector (:func:`injected_text`),
    which sees through case, width, zero-width and look-alike tricks and letter-by-letter spelling."""
    folded = fold(text)
    hits = injected_text(folded) or injected_text(compact(folded))
    if not hits:
        return None
    start, end = hits[0].span
    left, right = SentenceIndex(text).bounds(start, end)
    sentence = text[left:right].strip()
    return sentence if len(sentence) <= 200 else hits[0].matched.strip()[:200]
