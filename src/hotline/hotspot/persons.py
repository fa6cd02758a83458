"""Which of jieba's tagged words are people's names, to keep them out of hot-spot words.

jieba tags a person's name ``nr`` (``nrfg``: a full name its dictionary knows, ``nrt``: a
transliterated one), but its dictionary also tags tens of thousands of ordinary words so (井盖,
胡同, 师傅, 阳光, 文明, 顾客), and a name it splits comes out in pieces (欧阳/ns 娜娜/nrt, 刘/zg
秀英/nr). Dropping every ``nr`` word would take 井盖 from a road hot spot's keywords; keeping them
would show 张伟. So a word is taken for a name when

* it is a compound surname that is no ordinary word (欧阳, 司马, 诸葛 …), or
* it is tagged as a name, is two to four characters long (four only after a compound surname:
  上官婉儿, not 卫浴设备), and either follows a surname that is no function word (刘 秀英, 李 红梅;
  not 和 井盖), or starts with a common surname and is no common word: missing from jieba's
  dictionary (the names its model finds: 张伟, 孙丽娟) or in it less often than ``RARE`` (李四 106,
  王先生 37; ordinary words so tagged are more frequent: 胡同 1762, 阳光 3451).

A name jieba tags as something else (于洋/ns, 黄/a 建国/ns) gets through; the caller's own name
does not depend on this, it is scrubbed from the text before tagging (hotspot.cluster).
"""

from __future__ import annotations

from collections.abc import Mapping

from hotline.kit.scrub import COMPOUND_SURNAMES

NAME_TAGS = frozenset({"nr", "nrfg", "nrt"})
RARE = 500
# Those that are also ordinary words (东方, 西门, 百里 …) are left out.
SURNAME_WORDS = COMPOUND_SURNAMES - {
    "东方",
    "长孙",
    "南宫",
    "西门",
    "百里",
    "太史",
    "单于",
    "濮阳",
    "东郭",
}
# The commonest surnames, about nine in ten people.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦"
    "俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房"
    "滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应"
    "臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
# Tags of words that join or point (和/c, 向/p, 他/r, 都/d, 的/uj): no surname before a name.
_FUNCTION_TAGS = ("c", "p", "r", "d", "u", "y", "e", "o")


def _surname_before(word: str, flag: str) -> bool:
    if word in SURNAME_WORDS:
        return True
    return len(word) == 1 and word in SURNAMES and not flag.startswith(_FUNCTION_TAGS)


def is_name(word: str, flag: str, previous: tuple[str, str], frequency: Mapping[str, int]) -> bool:
    """Whether ``word``, tagged ``flag`` after the word and tag ``previous``, is a person's name;
    ``frequency`` is jieba's dictionary (word → count)."""
    if word in SURNAME_WORDS:
        return True
    if flag not in NAME_TAGS or not 2 <= len(word) <= 4:
        return False
    compound = word[:2] in SURNAME_WORDS
    if len(word) == 4 and not compound:
        return False
    if len(word) <= 3 and _surname_before(*previous):
        return True
    return (compound or word[0] in SURNAMES) and frequency.get(word, 0) < RARE
