"""JupyterLab's kernel connection with Nagle's algorithm off, so a widget's reply reaches the page without delay.

jupyter_server never sets TCP_NODELAY on the kernel's websocket. A kernel answers a widget's message with several
small messages in a row (status busy, the update, status idle); with Nagle's algorithm on, the second waits until
the browser acknowledges the first, and the browser delays that acknowledgement (40 ms on Linux). Measured in
headless Chromium on a 2-core machine, a pointer-to-kernel-to-canvas round trip took 42 ms (median) with the
default connection and 18 ms with this one (benchmarks/bench_browser.py has the method).

`make lab` and the browser tests start JupyterLab with
    --ServerApp.kernel_websocket_connection_class=series_tools.lab_server.NoDelayKernelConnection
"""

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

SERVER_FLAG = f"--ServerApp.kernel_websocket_connection_class={__name__}.NoDelayKernelConnection"


class NoDelayKernelConnection(ZMQChannelsWebsocketConnection):
    """The default kernel websocket connection, sending each message as soon as it is written."""

    def connect(self):
        self.websocket_handler.set_nodelay(True)
        return super().connect()
