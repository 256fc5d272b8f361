"""What the demo's people write, in their words: riders' reports of each kind of clue,
what they say when the work is done, what officers answer. Picked in turn (never by the
story's random numbers, so the same seed tells the same story whatever is written)."""

from __future__ import annotations

from domain.clues import Category

REPORTS: dict[Category, tuple[str, ...]] = {
    Category.FAKE_MEAL_READY: (
        "商家系统显示已出餐，到店后说还没做，等了二十分钟",
        "这家店天天提前点出餐，骑手到了还要等半小时",
        "店员让我先点取餐，餐还在锅里，超时算我的",
    ),
    Category.UNSAFE_FOOD: (
        "后厨门口垃圾桶没盖，苍蝇很多，食材直接放在地上",
        "这家店用的油发黑，后门堆着过期的包装原料",
        "取餐时看到厨师没戴手套口罩，生熟菜板混用",
    ),
    Category.FIRE_HAZARD: (
        "楼道里有人在给电动车电瓶充电，线从窗户拉出来",
        "饭店后厨油烟管道积油很厚，旁边就是燃气罐",
        "小区地下室堆满纸箱，灭火器过期了",
    ),
    Category.BLOCKED_FIRE_LANE: (
        "小区东门消防通道被三辆电动车堵住",
        "商场后面的消防通道停了两辆私家车，一直没人挪",
        "消防通道上堆了装修垃圾，消防车进不来",
    ),
    Category.TRAFFIC_HAZARD: (
        "十字路口红绿灯坏了，早高峰车和人抢道",
        "路中间井盖缺了一块，晚上看不见很危险",
        "学校门口的减速带被撞坏了，车开得很快",
    ),
    Category.ELDERLY_FALL: (
        "公交站旁有位老人摔倒了，意识清醒，说腿疼站不起来",
        "小区门口一位老大爷摔在台阶上，已帮忙扶坐，需要有人来看看",
    ),
    Category.ROBBERY: (
        "地铁口有人抢了一位阿姨的包，往北边小巷跑了",
        "夜里看到两个人在停车场撬电动车，已经走远",
    ),
    Category.OTHER: (
        "路灯连着三盏不亮，晚上送餐看不清路",
        "人行道上有棵树被风刮倒了，挡住一半的路",
        "小区里流浪狗追人，已经有人被吓到",
    ),
}

DONE = ("已到场处置，现场已恢复正常，照片见附件", "已联系物业挪车，通道已畅通", "已通知店家整改，现场拍照留存",
        "已在现场等到社区工作人员接手", "已巡查完毕，沿路未发现新的问题")
DONE_AGAIN = "已按要求重新拍照，现场情况清楚"
REJECTED_CLUE = "不属于网格事项，已转告社区"
REJECTED_COMPLETION = "照片不清晰，看不出现场情况，请补拍"


def report(category: Category, n: int) -> str:
    """The n-th report of a kind."""
    said = REPORTS[category]
    return said[n % len(said)]


def done(n: int) -> str:
    """The n-th rider's word that the work is done."""
    return DONE[n % len(DONE)]
