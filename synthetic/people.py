"""People: Chinese names and valid citizen ID numbers (GB 11643), vectorised for millions of persons.

Background persons take ID sequence numbers below PLANTED_SEQ_BASE within their (region, birth date)
group; planted persons take numbers from PLANTED_SEQ_BASE up, so the two never collide.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from ingestion import idcard

PLANTED_SEQ_BASE = 800
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
) + ["欧阳", "司马", "诸葛", "上官"]
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彩春菊凤梅琳素云莲真环雪荣爱妹香月莺媛瑞凡佳嘉琼勤珍贞莉兰凤洁梅琳素云莲真环雪荣爱建国庆文辉力永健世广志义兴良海山仁波宁贵福生龙元全胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"
)
RARE_GIVEN = ["𠀤", "䶮", "堃", "喆", "昇"]  # the first two are not in GBK (𠀤 needs a 4-byte GB18030 form)
OTHER_PROVINCE_COUNTIES = (
    "110101", "110105", "120101", "130102", "140105", "210102", "220102", "230102", "310101", "320102",
    "320106", "330102", "340102", "350102", "360102", "410102", "410105", "420102", "430102", "440103",
    "440106", "500101", "510104", "610102", "620102",
)  # fmt: skip
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.array(list("10X98765432"))
EPOCH = dt.date(1970, 1, 1)


def make_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Surname + one or two given-name characters; a few rare characters that GBK cannot encode."""
    surnames = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    given = np.array(GIVEN)
    first = given[rng.integers(0, len(given), n)]
    second = given[rng.integers(0, len(given), n)]
    two = rng.random(n) < 0.7
    names = np.char.add(np.char.add(surnames, first), np.where(two, second, "")).astype(object)
    rare = np.flatnonzero(rng.random(n) < 0.002)
    picks = rng.integers(0, len(RARE_GIVEN), len(rare))
    for i, pick in zip(rare, picks):
        names[i] = str(surnames[i]) + RARE_GIVEN[pick]
    return names


def check_digits(first17: np.ndarray) -> np.ndarray:
    """GB 11643 check characters for an array of 17-digit strings."""
    digits = np.frombuffer("".join(first17).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
    return _CHECK[(digits.astype(np.int64) @ _WEIGHTS) % 11]


def make_ids(region6: np.ndarray, birth_days: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Valid, unique 18-character IDs: sequence = 2·rank + sex within (region, birth date)."""
    frame = pl.DataFrame({"r": region6.astype(str), "b": birth_days.astype(np.int64), "m": male.astype(bool)})
    rank = frame.select(pl.int_range(pl.len()).over(["r", "b", "m"]).alias("rank"))["rank"].to_numpy()
    seq = rank * 2 + male.astype(np.int64)
    if len(seq) and seq.max() >= PLANTED_SEQ_BASE:
        raise ValueError("too many persons born on one day in one region")
    births = pl.Series(birth_days.astype(np.int64)).cast(pl.Date).dt.strftime("%Y%m%d").to_numpy()
    first17 = np.char.add(np.char.add(region6.astype(str), births.astype(str)), np.char.zfill(seq.astype(str), 3))
    return np.char.add(first17, check_digits(first17)).astype(object)


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def from_day_number(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


class PlantedPeople:
    """IDs for planted persons (sequence ≥ PLANTED_SEQ_BASE, so never equal to a background ID)."""

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self._next: dict[tuple[str, dt.date], int] = {}
        self.count = 0

    def make_id(self, region6: str, born: dt.date, male: bool) -> str:
        key = (region6, born)
        seq = self._next.get(key, PLANTED_SEQ_BASE)
        seq += (seq % 2) != int(male)  # odd = male
        self._next[key] = seq + 1
        self.count += 1
        if seq > 999:
            raise ValueError("too many planted persons on one day in one region")
        return idcard.make_id(region6, born, seq)

    def name(self) -> str:
        return str(make_names(self._rng, 1)[0])
