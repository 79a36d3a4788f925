"""Options shared by tokcom-tx and tokcom-rx: the radio, the tuning and the PHY."""

from .frontends import RadioError, parse_radio

DEFAULT_SERVICE = "tcp://127.0.0.1:5555"


def add_radio_options(p, gain_default: float):
    p.add_argument("--radio", required=True,
                   help="front end: uhd:ARGS (explicit device args, e.g. "
                        "type=b200,serial=30F1234 or addr=192.168.10.2), zmq:ENDPOINT "
                        "(e.g. tcp://127.0.0.1:5601) or file:PATH (.sigmf-data or raw cf32)")
    p.add_argument("--freq", type=float, default=915e6, help="centre frequency, Hz")
    p.add_argument("--rate", type=float, default=1e6, help="sample rate, samples/s")
    p.add_argument("--gain", type=float, default=gain_default, help="USRP gain, dB")
    p.add_argument("--antenna", default="", help="USRP antenna (e.g. TX/RX, RX2)")
    p.add_argument("--record", metavar="PATH", default="",
                   help="also record the IQ at this end (NAME.sigmf-data: SigMF, "
                        "else raw complex64)")
    p.add_argument("--service", default=DEFAULT_SERVICE, help="model service endpoint")
    p.add_argument("--curve-secret-key", metavar="FILE", default="",
                   help="this client's CURVE secret key (NAME.key_secret), for a service on "
                        "another host (docs/service.md)")
    p.add_argument("--curve-server-key", metavar="FILE", default="",
                   help="the service's CURVE public key (server.key)")
    p.add_argument("--first-image", type=int, default=0,
                   help="first Fashion-MNIST test image (frame_id = image index)")
    p.add_argument("--sps", type=int, default=2, help="samples per symbol")
    p.add_argument("--rolloff", type=float, default=0.35, help="RRC roll-off")


def curve_keys(p, args):
    """CurveClientKeys from --curve-secret-key / --curve-server-key, or None."""
    if not args.curve_secret_key and not args.curve_server_key:
        return None
    if not (args.curve_secret_key and args.curve_server_key):
        p.error("CURVE needs both --curve-secret-key and --curve-server-key")
    from ..service.security import CurveClientKeys

    return CurveClientKeys.from_files(args.curve_secret_key, args.curve_server_key)


def radio_spec(p, args):
    """The parsed --radio, or exit with argparse's usage error (status 2)."""
    try:
        return parse_radio(args.radio)
    except RadioError as err:
        p.error(str(err))
