"""Packet-level loss for link-layer studies: i.i.d. or bursty (Gilbert-Elliott)."""

import numpy as np
import pmt
from gnuradio import gr

from .drop_log import DropLog
from .frame_pdu import CRC_OK


class packet_loss(gr.basic_block):
    """Marks PDUs lost, either i.i.d. with probability `p_loss` or with a two-state
    Gilbert-Elliott chain (good -> bad with `p_gb`, bad -> good with `p_bg`; loss
    probability `loss_good` / `loss_bad` in each state).

    action "flag" passes a lost packet on with meta crc_ok = False, as a CRC check
    would; "drop" removes it, as a missed burst would. Seeded.
    """

    def __init__(self, model="iid", p_loss=0.1, p_gb=0.05, p_bg=0.5, loss_good=0.0,
                 loss_bad=1.0, action="flag", seed=0):
        gr.basic_block.__init__(self, name="packet_loss", in_sig=None, out_sig=None)
        if model not in ("iid", "gilbert_elliott"):
            raise ValueError("model must be 'iid' or 'gilbert_elliott'")
        if action not in ("flag", "drop"):
            raise ValueError("action must be 'flag' or 'drop'")
        for name, p in dict(p_loss=p_loss, p_gb=p_gb, p_bg=p_bg, loss_good=loss_good,
                            loss_bad=loss_bad).items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability, got {p}")
        self.model, self.action = model, action
        self.p_loss, self.p_gb, self.p_bg = p_loss, p_gb, p_bg
        self.loss_good, self.loss_bad = loss_good, loss_bad
        self._rng = np.random.default_rng(seed)
        self._bad_state = False
        self.packets_in = 0
        self.packets_lost = 0
        self.malformed = 0
        self._drop_log = DropLog()
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def _lost(self) -> bool:
        if self.model == "iid":
            return self._rng.random() < self.p_loss
        # Transition first, then draw the loss in the new state.
        flip = self.p_bg if self._bad_state else self.p_gb
        if self._rng.random() < flip:
            self._bad_state = not self._bad_state
        return self._rng.random() < (self.loss_bad if self._bad_state else self.loss_good)

    def _handle(self, msg):
        self.packets_in += 1
        if not pmt.is_pair(msg) or not pmt.is_dict(pmt.car(msg)):
            self.malformed += 1
            self._drop_log(self.logger, "malformed message", "not a PDU (meta dict, payload)")
            return
        if not self._lost():
            self.message_port_pub(pmt.intern("out"), msg)
            return
        self.packets_lost += 1
        if self.action == "flag":
            meta = pmt.dict_add(pmt.car(msg), pmt.intern(CRC_OK), pmt.PMT_F)
            self.message_port_pub(pmt.intern("out"), pmt.cons(meta, pmt.cdr(msg)))
