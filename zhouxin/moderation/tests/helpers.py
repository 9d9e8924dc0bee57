import struct

from zhouxin.dispatch import services as dispatch

SPAM_TITLE = "澳门新葡京真人荷官"
SPAM_TEXT = "网上赌场｜真人百家乐｜注册送彩金｜提款秒到｜首充送100%｜澳门威尼斯人"


def png(width=64, height=48) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00\x00\x00\x00" + b"\x00" * 64


def intake(personas, *, area="community_a", actor="community_staff", **kwargs):
    values = {"kind": "complaint", "channel": "hotline", "title": "楼道堆放杂物",
              "description": "3号楼2单元楼道长期堆放纸箱杂物，影响通行，存在消防隐患。"}
    values.update(kwargs)
    return dispatch.request_intake(actor=personas.users[actor], area=personas.areas[area], **values)
