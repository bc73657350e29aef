import logging

from community.privacy import MaskingFilter, mask_id_number, mask_name, mask_phone, mask_text


def test_masks_follow_the_house_style():
    assert mask_name("张晓明") == "张*明"
    assert mask_name("王芳") == "王*"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("110101199003071234") == "1101**********1234"


def test_free_text_masking():
    text = "我电话13812345678，身份证110101199003071234，座机010-87654321"
    masked = mask_text(text)
    assert "13812345678" not in masked and "138****5678" in masked
    assert "110101199003071234" not in masked and "1101**********1234" in masked
    assert "87654321" not in masked


def test_log_filter_masks_personal_data(caplog):
    logger = logging.getLogger("test.privacy")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="test.privacy"):
        logger.info("resident %s called", "13812345678")
    assert "13812345678" not in caplog.text
    assert "138****5678" in caplog.text
