"""Images -> token frames through the model service's tokenizer."""

import threading
import time

import numpy as np
import pmt
from gnuradio import gr

from .frame_pdu import NO_LABEL, Frame, make_frame_pdu
from .image_files import fashion_mnist_test, list_image_files, load_image
from .service.client import ServiceClient

FASHION_MNIST = "fashion-mnist"
TOKENIZE_BATCH = 16


class image_token_source(gr.basic_block):
    """Emits one frame PDU per image, tokenized by the model service (tokcom-serve).

    images: "fashion-mnist" (the bundled Fashion-MNIST test split, held out from
    training; the label is the cross-modal information), a folder, or a comma-separated
    list of picture files (resized to the model's image size; label -1).
    Output "out": frame PDUs (frame_id, grid, codebook_size, label, model_id; tokens).
    Output "ref": the same frames with the original image in meta "image" (uint8,
    meta "image_shape"), for metrics at the receiver.

    n_frames images from first_index on (0 = all), paced at frames_per_second; with
    repeat the list starts over. After the last frame it sets `finished` (Python), waits
    drain_s and reports done, which ends a run-to-completion flowgraph. If the service
    cannot be reached (timeout_s per try, 3 tries) it logs an error and reports done.
    """

    def __init__(self, service="tcp://127.0.0.1:5555", images=FASHION_MNIST, n_frames=10,
                 frames_per_second=20.0, repeat=False, first_index=0, first_frame_id=0,
                 timeout_s=10.0, drain_s=2.0):
        gr.basic_block.__init__(self, name="image_token_source", in_sig=None, out_sig=None)
        if frames_per_second <= 0:
            raise ValueError("frames_per_second must be > 0 (it bounds downstream queues)")
        self.service, self.images = service, images
        self.n_frames, self.repeat = int(n_frames), bool(repeat)
        self.period = 1.0 / float(frames_per_second)
        self.first_index, self.first_frame_id = int(first_index), int(first_frame_id)
        self.timeout_s, self.drain_s = float(timeout_s), float(drain_s)
        self.frames_out = 0
        self.info = None
        self.finished = threading.Event()  # set when the source has sent all it will send
        self._stop = threading.Event()
        self._thread = None
        for port in ("out", "ref"):
            self.message_port_register_out(pmt.intern(port))

    def start(self):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="image_token_source",
                                        daemon=True)
        self._thread.start()
        return super().start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s * 4 + 5)
        return super().stop()

    def _load(self, info):
        """All images and labels, in the model's geometry."""
        if self.images == FASHION_MNIST:
            images, labels = fashion_mnist_test()
            return images, labels
        shape = (info["image_height"], info["image_width"], info["image_channels"])
        files = list_image_files(self.images)
        return np.stack([load_image(f, *shape) for f in files]), np.full(len(files), NO_LABEL)

    def _order(self, n_available):
        """Indices of the images to send, in order."""
        count = self.n_frames if self.n_frames > 0 else n_available - self.first_index
        idx = np.arange(self.first_index, self.first_index + count)
        if not self.repeat and idx[-1] >= n_available:
            idx = idx[idx < n_available]
        return idx % n_available

    def _run(self):
        try:
            with ServiceClient(self.service, timeout=self.timeout_s, retries=2) as client:
                self.info = info = client.info()
                images, labels = self._load(info)
                order = self._order(len(images))
                next_time = time.monotonic()
                for start in range(0, len(order), TOKENIZE_BATCH):
                    batch = order[start:start + TOKENIZE_BATCH]
                    tokens = client.tokenize(images[batch])
                    for j, i in enumerate(batch):
                        if self._stop.is_set():
                            return
                        self._emit(info, start + j, tokens[j], int(labels[i]), images[i])
                        next_time += self.period
                        self._stop.wait(max(0.0, next_time - time.monotonic()))
        except Exception as err:  # noqa: BLE001  (no tokenizer, no frames: end the run)
            self.logger.error(f"image token source stopped: {err}")
        self.finished.set()
        if not self._stop.wait(self.drain_s):
            self._post(pmt.intern("system"), pmt.cons(pmt.intern("done"), pmt.from_long(1)))

    def _emit(self, info, n, tokens, label, image):
        frame = Frame(np.asarray(tokens, np.uint16), self.first_frame_id + n,
                      info["codebook_size"], label=label, model_id=info["model_id"])
        self.message_port_pub(pmt.intern("out"), make_frame_pdu(frame))
        frame.meta = {"image": np.ascontiguousarray(image, np.uint8).ravel(),
                      "image_shape": list(image.shape)}
        self.message_port_pub(pmt.intern("ref"), make_frame_pdu(frame))
        self.frames_out += 1
