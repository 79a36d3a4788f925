"""The Qt widget of the Frame Image Panel (frame_image_panel.py): draws the panel's
FramePanelState in the GUI thread whenever the block signals a change."""

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets

CAPTIONS = ("original", "received (lost regions bright)", "predicted")


class PictureView(QtWidgets.QWidget):
    """The picture row scaled to the widget with square, sharp pixels (28 x 28 images
    are small), a caption over each of its three columns."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(3 * 112, 140)
        self.setSizePolicy(QtWidgets.QSizePolicy.Expanding, QtWidgets.QSizePolicy.Expanding)
        self._image = None
        self._has_original = False

    def set_picture(self, picture, has_original: bool):
        rgb = np.asarray(picture, np.uint8)
        if rgb.ndim == 2:
            rgb = np.repeat(rgb[:, :, None], 3, axis=2)
        rgb = np.ascontiguousarray(rgb[:, :, :3])
        h, w = rgb.shape[:2]
        # copy(): the QImage must not keep pointing into the numpy buffer
        self._image = QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format_RGB888).copy()
        self._has_original = has_original
        self.update()

    def paintEvent(self, event):  # noqa: N802  (Qt's name)
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtCore.Qt.black)
        painter.setPen(QtCore.Qt.white)
        if self._image is None:
            painter.drawText(self.rect(), QtCore.Qt.AlignCenter, "waiting for frames")
            return
        caption_h = painter.fontMetrics().height() + 6
        area = self.rect().adjusted(0, caption_h, 0, 0)
        size = self._image.size().scaled(area.size(), QtCore.Qt.KeepAspectRatio)
        target = QtCore.QRect(area.left() + (area.width() - size.width()) // 2, area.top(),
                              size.width(), size.height())
        painter.setRenderHint(QtGui.QPainter.SmoothPixmapTransform, False)
        painter.drawImage(target, self._image)
        column = target.width() / 3
        for i, caption in enumerate(CAPTIONS):
            left = int(target.left() + i * column)
            painter.setPen(QtCore.Qt.white)
            painter.drawText(QtCore.QRect(left, 0, int(column), caption_h),
                             QtCore.Qt.AlignCenter, caption)
            if i:
                painter.setPen(QtGui.QColor(90, 90, 90))
                painter.drawLine(left, target.top(), left, target.bottom())
        if not self._has_original:
            painter.setPen(QtCore.Qt.gray)
            painter.drawText(QtCore.QRect(target.left(), target.top(), int(column),
                                          target.height()),
                             QtCore.Qt.AlignCenter, "no reference")


class FrameImageWidget(QtWidgets.QWidget):
    """Title, picture row, the frame's line and the running totals' line."""

    changed = QtCore.pyqtSignal()  # emitted from GNU Radio's threads, served in the GUI's

    def __init__(self, state, title: str, parent=None):
        super().__init__(parent)
        self.state = state
        self._picture = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel(f"<b>{title}</b>"))
        self.view = PictureView(self)
        layout.addWidget(self.view, 1)
        self.frame_label = QtWidgets.QLabel()
        self.totals_label = QtWidgets.QLabel()
        for label in (self.frame_label, self.totals_label):
            label.setWordWrap(True)
            label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
            layout.addWidget(label)
        self.changed.connect(self.refresh)
        self.refresh()

    def refresh(self):
        picture, has_original, frame_line, totals_line = self.state.snapshot()
        if picture is not None and picture is not self._picture:
            self._picture = picture
            self.view.set_picture(picture, has_original)
        self.frame_label.setText(frame_line)
        self.totals_label.setText(totals_line)
