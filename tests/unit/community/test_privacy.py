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


def test_tracebacks_and_known_names_are_masked_in_every_record(capsys):
    """A failing action's traceback can quote a resident's details; it never reaches the log."""
    import contextvars

    from community.privacy import install_log_masking, known_personal_values

    def fail_in_an_action():
        known_personal_values([("王秀英", "王***")])
        try:
            raise ValueError("王秀英 13812345678 110101199003071234 住3栋2单元501")
        except ValueError:
            logger.exception("action failed for %s", "王秀英")

    factory = logging.getLogRecordFactory()
    handler = logging.StreamHandler()  # added after masking was installed, as Rasa's are
    install_log_masking()
    logger = logging.getLogger("test.privacy.traceback")
    logger.addHandler(handler)
    try:
        contextvars.copy_context().run(fail_in_an_action)
    finally:
        logger.removeHandler(handler)
        logging.setLogRecordFactory(factory)
    err = capsys.readouterr().err
    assert "ValueError" in err and "Traceback" in err
    for secret in ("王秀英", "13812345678", "110101199003071234", "2单元501"):
        assert secret not in err
