"""Import-heavy cold start: imports a fixed list of 368 stdlib modules, which
load about 500 modules in all, most of them pure Python, so nearly all of the
code that runs is module-level code that runs once.  The list has only modules
that exist on 3.11 to 3.13 and import without side effects (no GUI, terminal or
network); a module that a given build lacks is skipped.

usage: python imports.py [N]   import only the first N modules of the list
"""
import sys

MODULES = """
abc argparse ast asyncio asyncio.base_events asyncio.subprocess asyncio.unix_events base64
bdb binascii bisect bz2 calendar cmd code codecs codeop collections collections.abc colorsys
compileall concurrent.futures concurrent.futures.process concurrent.futures.thread
configparser contextlib contextvars copy copyreg cProfile csv ctypes ctypes.util
ctypes.macholib.dyld curses curses.ascii curses.has_key curses.panel curses.textpad dataclasses
datetime dbm dbm.dumb decimal difflib dis doctest email email.base64mime email.charset
email.contentmanager email.encoders email.errors email.feedparser email.generator email.header
email.headerregistry email.iterators email.message email.mime.application email.mime.audio
email.mime.base email.mime.image email.mime.message email.mime.multipart email.mime.nonmultipart
email.mime.text email.parser email.policy email.quoprimime email.utils encodings.ascii
encodings.base64_codec encodings.big5 encodings.bz2_codec encodings.charmap encodings.cp037
encodings.cp1006 encodings.cp1026 encodings.cp1125 encodings.cp1140 encodings.cp1250
encodings.cp1251 encodings.cp1252 encodings.cp1253 encodings.cp1254 encodings.cp1255
encodings.cp1256 encodings.cp1257 encodings.cp1258 encodings.cp273 encodings.cp424
encodings.cp437 encodings.cp500 encodings.cp720 encodings.cp737 encodings.cp775 encodings.cp850
encodings.cp852 encodings.cp855 encodings.cp856 encodings.cp857 encodings.cp858 encodings.cp860
encodings.cp861 encodings.cp862 encodings.cp863 encodings.cp864 encodings.cp865 encodings.cp866
encodings.cp869 encodings.cp874 encodings.cp875 encodings.cp932 encodings.cp949 encodings.cp950
encodings.euc_jp encodings.euc_kr encodings.gb18030 encodings.gb2312 encodings.gbk
encodings.hex_codec encodings.hp_roman8 encodings.hz encodings.idna encodings.iso2022_jp
encodings.iso8859_10 encodings.iso8859_11 encodings.iso8859_13 encodings.iso8859_14
encodings.iso8859_15 encodings.iso8859_16 encodings.iso8859_2 encodings.iso8859_3
encodings.iso8859_4 encodings.iso8859_5 encodings.iso8859_6 encodings.iso8859_7
encodings.iso8859_8 encodings.iso8859_9 encodings.johab encodings.koi8_r encodings.koi8_t
encodings.koi8_u encodings.kz1048 encodings.latin_1 encodings.mac_arabic encodings.mac_croatian
encodings.mac_cyrillic encodings.mac_farsi encodings.mac_greek encodings.mac_iceland
encodings.mac_latin2 encodings.mac_roman encodings.mac_romanian encodings.mac_turkish
encodings.palmos encodings.ptcp154 encodings.punycode encodings.quopri_codec
encodings.raw_unicode_escape encodings.rot_13 encodings.shift_jis encodings.tis_620
encodings.undefined encodings.unicode_escape encodings.utf_16 encodings.utf_16_be
encodings.utf_16_le encodings.utf_32 encodings.utf_7 encodings.uu_codec encodings.zlib_codec
ensurepip enum errno faulthandler filecmp fileinput fnmatch fractions ftplib functools gc
genericpath getopt getpass gettext glob graphlib gzip hashlib heapq hmac html html.entities
html.parser http http.client http.cookiejar http.cookies http.server imaplib importlib
importlib.abc importlib.machinery importlib.metadata importlib.resources importlib.util inspect
io ipaddress itertools json json.decoder json.encoder json.scanner json.tool keyword linecache
locale logging logging.config logging.handlers lzma mailbox marshal math mimetypes modulefinder
multiprocessing multiprocessing.connection multiprocessing.context multiprocessing.dummy
multiprocessing.forkserver multiprocessing.heap multiprocessing.managers multiprocessing.pool
multiprocessing.popen_fork multiprocessing.popen_forkserver multiprocessing.popen_spawn_posix
multiprocessing.process multiprocessing.queues multiprocessing.reduction
multiprocessing.resource_sharer multiprocessing.resource_tracker multiprocessing.shared_memory
multiprocessing.sharedctypes multiprocessing.spawn multiprocessing.synchronize
multiprocessing.util netrc numbers opcode operator optparse os pathlib pdb pickle pickletools
pkgutil platform plistlib poplib posixpath pprint profile pstats pty py_compile pyclbr pydoc
pydoc_data.topics queue quopri random re reprlib runpy sched secrets selectors shelve shlex
shutil signal site smtplib socket socketserver sqlite3 sqlite3.dbapi2 sqlite3.dump ssl stat
statistics string stringprep struct subprocess symtable sysconfig tabnanny tarfile tempfile
textwrap threading timeit token tokenize tomllib trace traceback tracemalloc tty types typing
unicodedata unittest unittest.mock urllib urllib.error urllib.parse urllib.request
urllib.response urllib.robotparser uuid venv warnings wave weakref webbrowser wsgiref
wsgiref.handlers wsgiref.headers wsgiref.simple_server wsgiref.types wsgiref.util
wsgiref.validate xml xml.dom xml.dom.NodeFilter xml.dom.domreg xml.dom.expatbuilder
xml.dom.minicompat xml.dom.minidom xml.dom.pulldom xml.dom.xmlbuilder xml.etree
xml.etree.ElementInclude xml.etree.ElementPath xml.etree.ElementTree xml.etree.cElementTree
xml.parsers.expat xml.sax xml.sax.expatreader xml.sax.handler xml.sax.saxutils
xml.sax.xmlreader xmlrpc xmlrpc.client xmlrpc.server zipapp zipfile zipimport zlib zoneinfo
""".split()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else len(MODULES)
    before = len(sys.modules)
    missing = 0
    for name in MODULES[:n]:
        try:
            __import__(name)
        except ImportError:
            missing += 1
    print(f"{n} listed, {missing} missing: {len(sys.modules) - before} modules loaded")


main()
