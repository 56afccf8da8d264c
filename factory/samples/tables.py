"""Name, place and acceptance-point tables for generated applications."""

from __future__ import annotations

# Common surnames with rough relative frequencies (per mille of the population,
# rounded, from published surname rankings); a few rarer ones (吕, 单, 区, 尉迟)
# exercise transliteration rules.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 72), ("李", 71), ("张", 67), ("刘", 54), ("陈", 45), ("杨", 31), ("黄", 22),
    ("赵", 20), ("吴", 20), ("周", 19), ("徐", 13), ("孙", 12), ("马", 12), ("朱", 11),
    ("胡", 10), ("郭", 10), ("何", 9), ("高", 9), ("林", 9), ("罗", 8), ("郑", 8),
    ("梁", 7), ("谢", 6), ("宋", 6), ("唐", 6), ("许", 5), ("韩", 5), ("冯", 5),
    ("邓", 5), ("曹", 5), ("彭", 4), ("曾", 4), ("肖", 4), ("田", 4), ("董", 4),
    ("袁", 4), ("潘", 3), ("于", 3), ("蒋", 3), ("蔡", 3), ("余", 3), ("杜", 3),
    ("叶", 3), ("程", 3), ("苏", 3), ("魏", 3), ("吕", 3), ("丁", 3), ("任", 3),
    ("沈", 3), ("姚", 2), ("卢", 2), ("姜", 2), ("崔", 2), ("钟", 2), ("谭", 2),
    ("陆", 2), ("汪", 2), ("范", 2), ("金", 2), ("石", 2), ("廖", 2), ("贾", 2),
    ("夏", 2), ("韦", 2), ("方", 2), ("白", 2), ("邹", 2), ("孟", 2), ("熊", 2),
    ("秦", 2), ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("段", 1), ("雷", 1),
    ("侯", 1), ("龙", 1), ("史", 1), ("陶", 1), ("黎", 1), ("贺", 1), ("顾", 1),
    ("毛", 1), ("郝", 1), ("龚", 1), ("邵", 1), ("万", 1), ("钱", 1), ("严", 1),
    ("覃", 0.5), ("单", 0.3), ("区", 0.1), ("解", 0.3), ("仇", 0.2), ("尉迟", 0.02),
    ("欧阳", 0.3), ("司马", 0.05), ("诸葛", 0.02),
)

# Given-name characters, split by the sex they are mostly given to; 晓, 未 and
# the like have look-alikes an applicant may write by mistake.
GIVEN_CHARS_F: tuple[str, ...] = tuple(
    "芳娜敏静丽艳娟霞秀英桂兰玲莹婷雪慧琳晶洁颖倩佳欣怡梦涵雨萱诗悦晓彤妍月红梅燕萍"
)
GIVEN_CHARS_M: tuple[str, ...] = tuple(
    "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林建国志文博轩晨睿晓未"
)
GIVEN_CHARS_ANY: tuple[str, ...] = tuple("晓未子一思嘉可安乐天")

# Characters applicants mistake when signing, and what they write instead
# (形近字). The QA stage finds these by glyph comparison; the generator uses
# them to produce realistic signature mistakes.
LOOKALIKES: dict[str, str] = {
    "晓": "哓", "未": "末", "己": "已", "戌": "戍", "士": "土", "侯": "候",
    "汩": "汨", "杨": "扬", "玲": "铃", "莹": "萤", "宇": "字", "鹏": "朋",
    "睿": "叡", "洋": "详", "博": "搏", "帅": "师", "浩": "诰", "晨": "辰",
}

# Provinces as printed for place of birth; the centre is in Shandong, so most
# applicants were born there.
PLACES_OF_BIRTH: tuple[tuple[str, float], ...] = (
    ("山东", 80), ("河北", 3), ("河南", 3), ("江苏", 2), ("北京", 2), ("辽宁", 1.5),
    ("黑龙江", 1), ("吉林", 1), ("安徽", 1), ("山西", 1), ("上海", 1), ("浙江", 1),
    ("四川", 0.5), ("湖北", 0.5), ("广东", 0.5), ("天津", 0.5), ("陕西", 0.5),
)

# The sixteen acceptance points of Jinan (seeds/001: 济政办字〔2019〕25号, annex)
# and the exit-entry halls of other cities in the province.
ACCEPTANCE_POINTS: tuple[str, ...] = (
    "历下分局科院路派出所",
    "市中分局六里山派出所",
    "槐荫分局道德街派出所",
    "天桥分局纬北路派出所",
    "历城分局综合服务厅",
    "长清分局大学路派出所",
    "章丘分局双山第二派出所",
    "高新区分局舜华路派出所",
    "南部山区分局仲宫派出所",
    "济阳分局济北开发区派出所",
    "平阴县局榆山第一派出所",
    "商河县局许商派出所",
    "莱芜区分局城东派出所",
    "钢城区分局西冶派出所",
    "雪野旅游区分局雪野派出所",
    "莱芜高新技术产业开发区分局华山路派出所",
    "济南市出入境接待大厅",
    "青岛市出入境接待大厅",
    "烟台市出入境接待大厅",
    "潍坊市出入境接待大厅",
    "淄博市出入境接待大厅",
    "济宁市出入境接待大厅",
    "临沂市出入境接待大厅",
    "威海市出入境接待大厅",
)

STREETS: tuple[str, ...] = (
    "经十路", "泉城路", "解放路", "历山路", "和平路", "山大路", "工业南路", "花园路",
    "香港中路", "南京路", "胜利大街", "人民路", "文化路", "青年路",
)
CITIES: tuple[str, ...] = ("济南市", "青岛市", "烟台市", "潍坊市", "淄博市", "济宁市", "临沂市", "威海市")
