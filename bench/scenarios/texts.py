"""Words of a busy scenic area: people's names, phones, ID numbers, places
(the gazetteer in shared/matching/places.yaml, or a small built-in list), and
found or lost items described the way a clerk or a visitor would (Chinese,
with brands, colours, materials and marks). Pure functions of a ``random.Random``.
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass

import yaml

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红鹏建华飞鑫波斌宇浩凯健俊帆帅旭"
         "宁欣怡梓涵子轩雨萱一诺浩然思远佳琪晨曦志强海燕春梅冬梅晓东晓燕文博诗涵嘉怡宏伟国庆建国")

COLOURS = ("黑色", "白色", "银色", "灰色", "蓝色", "深蓝色", "红色", "粉色", "绿色", "黄色", "紫色", "棕色", "金色",
           "米色", "橙色", "透明")
MARKS = ("边角有磕痕", "有划痕", "贴着卡通贴纸", "挂着一个小熊挂件", "用了很久有点旧", "几乎全新", "带一个钥匙扣",
         "背面写着名字缩写", "有一处掉漆", "套着防尘袋", "沾了点泥", "拉链坏了一半", "带挂绳")

# category -> item kinds: (name as registered, names a visitor may use, brands, materials/extras)
CATALOGUE: dict[str, list[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]]] = {
    "phone": [("手机", ("手机", "智能手机"), ("华为", "苹果", "小米", "OPPO", "vivo", "荣耀", "三星"),
               ("透明手机壳", "黑色硅胶壳", "带支架的手机壳", "屏幕碎了一角", "贴了钢化膜", "没有壳"))],
    "cash": [("现金", ("钱", "现金"), ("",), ("用橡皮筋捆着", "装在红包里", "夹在信封里", "几张一百元"))],
    "camera": [("相机", ("相机", "照相机", "单反"), ("佳能", "尼康", "索尼", "富士", "GoPro", "大疆"),
                ("带遮光罩", "背带是红色的", "装在相机包里", "镜头盖丢了", "插着存储卡"))],
    "wallet": [("钱包", ("钱包", "皮夹"), ("", "LV", "Coach", "七匹狼", "无印良品"),
                ("牛皮的", "对折款", "长款", "里面有几张银行卡", "有零钱", "拉链款"))],
    "bag": [("背包", ("背包", "双肩包", "书包"), ("耐克", "阿迪达斯", "迪卡侬", "小米", "北面"),
             ("里面有水杯和纸巾", "侧袋插着雨伞", "挂着徽章", "防水面料")),
            ("手提袋", ("手提袋", "购物袋", "袋子"), ("", "优衣库", "文创店"), ("装着纪念品", "装着衣服", "纸质的")),
            ("挎包", ("挎包", "斜挎包", "腰包"), ("", "Coach", "蔻驰", "迪卡侬"), ("皮质", "帆布的", "链条肩带"))],
    "jewelry": [("项链", ("项链", "链子"), ("周大福", "老凤祥", "潘多拉", ""), ("金的", "银的", "带吊坠", "珍珠的")),
                ("手镯", ("手镯", "镯子"), ("", "周生生"), ("玉的", "银的", "刻着字")),
                ("耳环", ("耳环", "耳钉"), ("", "施华洛世奇"), ("一只", "一对", "水钻的"))],
    "watch": [("手表", ("手表", "表"), ("华为", "苹果", "卡西欧", "天梭", "小米"),
               ("智能手表", "皮表带", "钢表带", "表盘有裂纹", "运动款"))],
    "electronics": [("充电宝", ("充电宝", "移动电源"), ("小米", "罗马仕", "Anker", "街电", "怪兽充电"),
                     ("10000毫安", "20000毫安", "连着一根线", "共享的")),
                    ("耳机", ("耳机", "蓝牙耳机"), ("苹果", "华为", "索尼", "漫步者"),
                     ("装在充电盒里", "头戴式", "只有一只", "白色充电盒")),
                    ("平板电脑", ("平板", "iPad", "平板电脑"), ("苹果", "华为", "小米"),
                     ("带键盘保护套", "贴着膜", "皮套是灰色的"))],
    "document": [("身份证", ("身份证", "证件"), ("",), ("装在卡套里", "和驾驶证放在一起", "")),
                 ("护照", ("护照",), ("",), ("夹着登机牌", "深红色封皮", "")),
                 ("驾驶证", ("驾驶证", "驾照"), ("",), ("黑色皮套", ""))],
    "card": [("银行卡", ("银行卡", "卡"), ("工商银行", "建设银行", "招商银行", "农业银行"), ("", "背面签了名")),
             ("门票", ("门票", "票"), ("青岚山",), ("两张", "年卡", "索道票")),
             ("交通卡", ("公交卡", "交通卡"), ("",), ("套着卡套", "带挂绳"))],
    "key": [("钥匙", ("钥匙", "一串钥匙"), ("", "丰田", "大众", "比亚迪"),
             ("三把一串", "带车钥匙", "挂着门禁卡", "挂着小铃铛"))],
    "glasses": [("眼镜", ("眼镜", "近视眼镜"), ("", "暴龙", "雷朋"), ("黑框", "金属框", "装在眼镜盒里", "树脂镜片")),
                ("墨镜", ("墨镜", "太阳镜"), ("雷朋", "暴龙", "古驰", ""), ("茶色镜片", "偏光", "带皮套"))],
    "clothing": [("外套", ("外套", "衣服", "夹克"), ("优衣库", "李宁", "安踏", "始祖鸟", ""),
                  ("冲锋衣", "羽绒服", "口袋里有纸巾", "XL码")),
                 ("帽子", ("帽子", "遮阳帽", "棒球帽"), ("", "耐克", "迪士尼"), ("宽檐的", "带绳子的")),
                 ("围巾", ("围巾",), ("", "无印良品"), ("羊毛的", "格子的"))],
    "umbrella": [("雨伞", ("伞", "雨伞", "遮阳伞"), ("天堂", "蕉下", ""), ("折叠伞", "长柄伞", "伞柄有划痕", "自动伞"))],
    "toy": [("玩具", ("玩具", "毛绒玩具"), ("", "迪士尼", "乐高"), ("小熊", "兔子", "奥特曼", "遥控车", "会发光"))],
    "other": [("水杯", ("水杯", "保温杯", "杯子"), ("膳魔师", "象印", "星巴克", "小米"), ("不锈钢", "带茶漏", "贴着名字")),
              ("拐杖", ("拐杖", "登山杖"), ("", "迪卡侬"), ("可折叠", "木头的")),
              ("药品", ("药", "药盒"), ("",), ("降压药", "装在小药盒里"))],
}

HIDDEN = {
    "phone": (("锁屏壁纸", ("一只猫", "小孩照片", "海边风景", "全家福")), ("IMEI尾号", None)),
    "camera": (("存储卡里的照片", ("婚纱照", "山顶日出", "孩子照片")), ("机身编号尾号", None)),
    "wallet": (("里面的证件", ("一张身份证", "驾驶证和两张银行卡", "会员卡")), ("现金", ("约两百元", "约五百元", "几十元零钱"))),
    "cash": (("金额", ("三百元", "一千二百元", "八百五十元")), ("面额", ("全是一百元", "五十和一百混着"))),
    "bag": (("里面的东西", ("充电器和笔记本", "一件外套和水杯", "药和纸巾")),),
    "jewelry": (("刻字", ("平安", "爱", "姓名缩写")),),
    "watch": (("表背刻字", ("生日快乐", "姓名缩写")), ("序列号尾号", None)),
    "electronics": (("序列号尾号", None), ("贴纸", ("皮卡丘", "小熊", "公司标志"))),
    "document": (("证件号尾号", None),),
    "card": (("卡号尾号", None),),
    "key": (("钥匙数量", ("三把", "四把", "两把")),),
}

FALLBACK_PLACES = ("北门广场", "北门售票处", "游客服务中心", "索道下站", "索道上站", "玻璃栈道", "云海观景台",
                   "青云寺", "小吃街", "演艺剧场", "儿童乐园", "青岚湖码头", "南门广场", "1号停车场")
GAZETTEER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                         "..", "shared", "matching", "places.yaml")
GAZETTEER_PATHS = ("/work/shared/matching/places.yaml", GAZETTEER)


@dataclass(frozen=True)
class Place:
    name: str
    aliases: tuple[str, ...]


def load_places(path: str | None = None) -> tuple[Place, ...]:
    """The scenic area's places: the gazetteer when it is there, else a short list."""
    for candidate in ((path,) if path else GAZETTEER_PATHS):
        if candidate and os.path.exists(candidate):
            with open(candidate, encoding="utf-8") as handle:
                entries = yaml.safe_load(handle)["places"]
            return tuple(Place(entry["name"], tuple(a for a in entry.get("aliases", ()) if not a.isascii()))
                         for entry in entries)
    return tuple(Place(name, ()) for name in FALLBACK_PLACES)


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def id_number(rng: random.Random) -> str:
    born = f"{rng.randrange(1950, 2010)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    body = f"{rng.choice(('110101', '310104', '440305', '510107', '330106', '420102'))}{born}{rng.randrange(1000):03d}"
    return body + rng.choice("0123456789X")


@dataclass(frozen=True)
class Item:
    """One real object as the finder sees it (and what only its owner knows)."""

    category: str
    name: str
    description: str
    hidden: tuple[tuple[str, str], ...]
    visitor_names: tuple[str, ...]
    brand: str
    colour: str
    extra: str


def item(rng: random.Random) -> Item:
    category = rng.choices(tuple(CATALOGUE), weights=CATEGORY_WEIGHTS)[0]
    name, visitor_names, brands, extras = rng.choice(CATALOGUE[category])
    brand, colour, extra = rng.choice(brands), rng.choice(COLOURS), rng.choice(extras)
    parts = [f"{colour}{brand}{name}" if brand else f"{colour}{name}", extra]
    if rng.random() < 0.4:
        parts.append(rng.choice(MARKS))
    hidden = []
    for label, details in HIDDEN.get(category, ()):
        if rng.random() < 0.8:
            hidden.append((label, rng.choice(details) if details else f"{rng.randrange(10000):04d}"))
    return Item(category, name, "，".join(p for p in parts if p), tuple(hidden), visitor_names, brand, colour, extra)


def visitor_description(rng: random.Random, thing: Item) -> tuple[str, str, str]:
    """A visitor's own words for the item: (name, description, features)."""
    said = rng.choice(thing.visitor_names)
    words = [f"{thing.colour}的{said}" if rng.random() < 0.7 else said]
    if thing.brand and rng.random() < 0.6:
        words.append(f"{thing.brand}的")
    if thing.extra and rng.random() < 0.5:
        words.append(thing.extra)
    features = [f"{label}是{detail}" for label, detail in thing.hidden if rng.random() < 0.7]
    if not features:
        features = [rng.choice(MARKS)]
    return said, "，".join(words), "；".join(features)


def unrelated_description(rng: random.Random) -> tuple[str, str, str, str]:
    """A loss nobody will turn in: (category, name, description, features)."""
    thing = item(rng)
    name, description, features = visitor_description(rng, thing)
    return thing.category, name, description, features


# how often each category is found, roughly as at a mountain area's desk
CATEGORY_WEIGHTS = tuple({
    "phone": 14, "cash": 3, "camera": 3, "wallet": 9, "bag": 9, "jewelry": 2, "watch": 3, "electronics": 10,
    "document": 6, "card": 7, "key": 7, "glasses": 5, "clothing": 8, "umbrella": 7, "toy": 4, "other": 3,
}[category] for category in CATALOGUE)
