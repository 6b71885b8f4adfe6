"""Chinese names from word lists: enterprises (兰州宏达化工有限公司), projects (年产20万吨…技术改造项目), people."""

from __future__ import annotations

import numpy as np

BRAND_WORDS = (
    "宏达",
    "金源",
    "华龙",
    "祁连",
    "陇原",
    "丝路",
    "瑞丰",
    "恒通",
    "昌盛",
    "兴业",
    "天宝",
    "鑫海",
    "博远",
    "永新",
    "汇丰",
    "嘉禾",
    "远大",
    "中天",
    "合力",
    "泰和",
    "通达",
    "正阳",
    "长城",
    "新星",
    "安泰",
    "凯达",
    "华信",
    "德隆",
    "金川",
    "河西",
    "黄河",
    "崆峒",
    "麦积",
    "敦煌",
    "雪山",
    "盛源",
    "富民",
    "众和",
    "鼎立",
    "聚能",
    "银河",
    "三羊",
    "宝丰",
    "腾达",
    "万象",
    "丰源",
    "锦程",
    "同心",
    "海川",
    "润泽",
    "晨光",
    "开元",
    "明珠",
    "东方",
    "西部",
    "陇海",
    "弘业",
    "国强",
    "福瑞",
    "大成",
)

# words naming what a firm of a sector group does
SECTOR_WORDS: dict[str, tuple[str, ...]] = {
    "能源": ("煤业", "电力", "热电", "能源", "新能源", "风电", "光伏发电", "燃气", "供水"),
    "石油化工": ("石化", "化工", "炼化", "精细化工", "塑料制品", "橡胶", "油气"),
    "冶金有色": ("钢铁", "有色金属", "铝业", "铜业", "镍业", "铁合金", "冶金", "矿业"),
    "装备制造": ("机械", "机床", "电机", "电气", "重工", "阀门", "装备制造", "汽车配件", "金属制品"),
    "电子信息": ("电子", "通信设备", "信息技术", "集成电路"),
    "生物医药": ("药业", "制药", "生物科技", "中药材"),
    "轻工食品": ("食品", "乳业", "酒业", "啤酒", "马铃薯制品", "清真食品", "纺织", "服饰", "造纸", "印刷"),
    "新型建材": ("水泥", "建材", "玻璃", "陶瓷", "石材"),
    "资源综合利用": ("再生资源", "循环经济", "资源综合利用"),
    "其他": ("工贸", "实业", "制造"),
}

COMPANY_SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司", "集团有限公司")
COMPANY_SUFFIX_WEIGHTS = np.array([0.55, 0.25, 0.12, 0.08])

PRODUCTS: dict[str, tuple[tuple[str, str], ...]] = {
    "能源": (("原煤", "万吨"), ("电力", "万千瓦时"), ("焦炭", "万吨")),
    "石油化工": (("乙烯", "万吨"), ("聚丙烯", "万吨"), ("甲醇", "万吨"), ("合成氨", "万吨")),
    "冶金有色": (("电解铝", "万吨"), ("阴极铜", "万吨"), ("电解镍", "万吨"), ("冷轧薄板", "万吨"), ("铝型材", "万吨")),
    "装备制造": (("数控机床", "台"), ("风电机组", "台"), ("石油钻采设备", "台套"), ("电机", "万千瓦")),
    "电子信息": (("集成电路封装", "亿块"), ("光伏组件", "兆瓦")),
    "生物医药": (("中药饮片", "吨"), ("原料药", "吨"), ("疫苗", "万支")),
    "轻工食品": (("马铃薯淀粉", "万吨"), ("乳制品", "万吨"), ("啤酒", "万千升"), ("牛羊肉制品", "万吨")),
    "新型建材": (("新型干法水泥", "万吨"), ("浮法玻璃", "万重量箱"), ("新型墙材", "亿块")),
    "资源综合利用": (("废钢再生", "万吨"), ("粉煤灰综合利用", "万吨")),
    "其他": (("工业品", "万件"),),
}

PROJECT_PATTERNS = (
    "年产{qty}{unit}{product}技术改造项目",
    "{product}生产线升级改造项目",
    "{product}节能降耗技术改造项目",
    "{product}装置扩能改造项目",
    "{product}智能化改造项目",
    "{product}清洁生产技术改造项目",
)

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国志红玉兰海燕鹏飞晓东文斌"


def enterprise_names(rng: np.random.Generator, place_shorts: np.ndarray, sector_groups: np.ndarray) -> np.ndarray:
    """One name per enterprise: place + brand + sector word + company suffix, e.g. 兰州宏达化工有限公司.

    Vectorised over enterprises; names are made unique by adding a second brand word where they clash."""
    n = len(place_shorts)
    brands = np.array(BRAND_WORDS)[rng.integers(0, len(BRAND_WORDS), n)]
    brands2 = np.array(BRAND_WORDS)[rng.integers(0, len(BRAND_WORDS), n)]
    suffix = np.array(COMPANY_SUFFIXES)[rng.choice(len(COMPANY_SUFFIXES), n, p=COMPANY_SUFFIX_WEIGHTS)]
    pick = rng.random(n)
    words = np.empty(n, dtype=object)
    for group, options in SECTOR_WORDS.items():
        mask = sector_groups == group
        if mask.any():
            words[mask] = np.array(options, dtype=object)[(pick[mask] * len(options)).astype(int)]
    words[words == None] = "实业"  # noqa: E711  (unknown group)
    names = np.char.add(np.char.add(np.char.add(place_shorts.astype(str), brands), words.astype(str)), suffix)
    names = names.astype(object)
    seen: set[str] = set()
    for i, name in enumerate(names):  # clash repair: only touches the few duplicates
        if name in seen:
            name = f"{place_shorts[i]}{brands[i]}{brands2[i]}{words[i]}{suffix[i]}"
            k = 2
            while name in seen:
                name = f"{place_shorts[i]}{brands[i]}{brands2[i]}{words[i]}{k}{suffix[i]}"
                k += 1
            names[i] = name
        seen.add(name)
    return names


def project_name(rng: np.random.Generator, sector_group: str, planned_total: float) -> str:
    """A project name for a sector, e.g. 年产20万吨电解铝技术改造项目."""
    options = PRODUCTS.get(sector_group, PRODUCTS["其他"])
    product, unit = options[int(rng.integers(0, len(options)))]
    pattern = PROJECT_PATTERNS[int(rng.integers(0, len(PROJECT_PATTERNS)))]
    qty = max(1, int(round(planned_total / 2000.0 * rng.uniform(0.5, 2.0))))
    return pattern.format(qty=qty, unit=unit, product=product)


def person_name(rng: np.random.Generator) -> str:
    """A two- or three-character Chinese personal name."""
    given = "".join(GIVEN[int(i)] for i in rng.integers(0, len(GIVEN), int(rng.integers(1, 3))))
    return SURNAMES[int(rng.integers(0, len(SURNAMES)))] + given
