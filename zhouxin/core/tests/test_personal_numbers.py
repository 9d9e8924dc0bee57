from zhouxin.core.personal_numbers import has_id_number, has_mobile, public_text_problem


def test_mobile_and_id_numbers_are_found_however_they_are_written():
    for text in ("电话13812345678", "138 1234 5678", "138-1234-5678", "１３８１２３４５６７８"):
        assert has_mobile(text), text
    for text in ("11010119800101007X", "110101 19800101 007x", "110101198507070029"):
        assert has_id_number(text), text
    assert "手机号码" in public_text_problem("有事打我电话 139 0000 1111")


def test_plan_numbers_codes_and_amounts_are_not_personal_numbers():
    for text in ("JF202611270001", "110101001001", "36000.00 元", "工单 11010126112600042", "12345678901234567890"):
        assert not has_mobile(text) and not has_id_number(text), text
        assert public_text_problem(text) is None
