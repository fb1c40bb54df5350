import threading

from ganterp.live.audio.helper_thread import HelperThread


def test_stop_wakes_the_waiting_thread_and_joins_it() -> None:
    helper = HelperThread("ganterp-test-helper")
    seen: list[str] = []

    def loop() -> None:
        while not helper.stopping.is_set():
            helper.wake.wait(30.0)
            helper.wake.clear()
        seen.append(threading.current_thread().name)

    assert not helper.running
    helper.start(loop)
    assert helper.running
    helper.stop()
    assert seen == ["ganterp-test-helper"]
    assert not helper.running
    helper.stop()  # idempotent


def test_a_thread_can_stop_itself_without_joining_itself() -> None:
    helper = HelperThread("ganterp-test-self-stop")
    done = threading.Event()

    def loop() -> None:
        helper.stop()
        done.set()

    helper.start(loop)
    assert done.wait(5.0)
    assert helper.stopping.is_set() and not helper.running


def test_start_again_after_stop_clears_stopping() -> None:
    helper = HelperThread("ganterp-test-restart")
    helper.start(lambda: None)
    helper.stop()
    ran = threading.Event()
    helper.start(lambda: ran.set() if not helper.stopping.is_set() else None)
    helper.join(5.0)
    assert ran.is_set()
    helper.stop()
