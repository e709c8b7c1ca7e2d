"""Hand-made deployment files in the real Geo-PKO and RADPKO layouts, and a small registry.

Every value here is invented for the tests; only the column layouts follow the real files.
"""

from __future__ import annotations

import datetime as dt
import types

from entangle.registry.schema import Intervention, Site, Source

CITE = [Source(ref="test fixture")]
MALI = dt.date(2013, 7, 1)


def registry():
    """MINUSMA with three sites; Timbuktu is known under its French name too."""
    minusma = Intervention(
        id="minusma",
        name="United Nations Multidimensional Integrated Stabilization Mission in Mali (MINUSMA)",
        kind="peacekeeping",
        organization="UN",
        start=MALI,
        end=dt.date(2023, 12, 31),
        sources=CITE,
    )
    barkhane = Intervention(
        id="barkhane",
        name="Operation Barkhane",
        kind="counterterrorism",
        organization="France",
        start=dt.date(2014, 8, 1),
        end=dt.date(2022, 11, 9),
        sources=CITE,
    )
    sites = (
        Site(
            id="minusma_gao",
            intervention_id="minusma",
            name="Gao",
            lat=16.30,
            lon=0.00,
            start=MALI,
            sources=CITE,
        ),
        Site(
            id="minusma_timbuktu",
            intervention_id="minusma",
            name="Timbuktu",
            aliases=["Tombouctou"],
            lat=16.80,
            lon=-3.00,
            start=MALI,
            sources=CITE,
        ),
        Site(
            id="minusma_menaka",
            intervention_id="minusma",
            name="Menaka",
            lat=15.90,
            lon=2.40,
            start=MALI,
            sources=CITE,
        ),
        Site(
            id="barkhane_gao",
            intervention_id="barkhane",
            name="Gao",
            lat=16.25,
            lon=-0.02,
            start=dt.date(2014, 8, 1),
            sources=CITE,
        ),
    )
    return types.SimpleNamespace(interventions=(minusma, barkhane), sites=sites)


V1_HEADER = (
    ",Source,Mission,year,month,location,country,latitude,longitude,No.troops,RPF,RPF_No,RES,RES_No,FP,FP_No,"
    "No.TCC,"
    + ",".join(f"name.of.TCC{i},No.troops.per.TCC{i}" for i in range(1, 15))
    + ",UNPOL..dummy.,UNMO..dummy.,HQ,LO,comments,cow_code,gwno,name,"
    + ",".join(f"TCC{i}" for i in range(1, 15))
    + ",ADM1_id,ADM1_name,ADM2_id,ADM2_name,PRIOID,alpha_3"
)


def v1_row(
    n, mission, year, month, location, lat, lon, troops, tcc1="Niger", tcc1_troops="100", comment="NA"
):
    tccs = [tcc1, tcc1_troops] + ["NA", "NA"] * 13
    tail = ["NA"] * 14
    cells = [
        str(n),
        "Map No. 9999 Rev.1",
        mission,
        str(year),
        str(month),
        location,
        "Mali",
        lat,
        lon,
        troops,
        "NA",
        "NA",
        "0",
        "0",
        "0",
        "0",
        "1",
        *tccs,
        "0",
        "0",
        "2",
        "0",
        comment,
        "432",
        "432",
        "Mali",
        *tail,
        "1",
        "Region",
        "2",
        "Cercle",
        "123456",
        "MLI",
    ]
    return ",".join(cells)


def v1_bytes() -> bytes:
    """Ten rows with CRLF endings, one cp1252 line among UTF-8 ones and a quoted multi-line comment."""
    utf8 = [
        V1_HEADER,
        v1_row(1, "MINUSMA", 2015, 2, "Gao", "16.31", "0.01", "1200"),  # name match
        v1_row(2, "MINUSMA", 2015, 2, "Tombouctou (Timbuktu)", "16.79", "-3.01", "NA"),  # alias, NA troops
        v1_row(3, "MINUSMA", 2015, 2, "Camp Nord", "16.39", "0.00", "300", tcc1_troops="unknown"),  # 10 km
        v1_row(4, "MINUSMA", 2015, 2, "Far Outpost", "17.30", "0.00", "150"),  # 111 km: unmatched
        v1_row(5, "UNMIL", 2010, 12, "Monrovia", "6.30", "-10.80", "2000"),  # no registry intervention
        v1_row(6, "UNOCI", 2010, 3, "unclear", "NA", "NA", "100"),  # no coordinates anywhere: rejected
        v1_row(7, "MINUSMA", 2016, 6, "Gao", "NA", "NA", '"1,350"'),  # coordinates from the registry
        v1_row(8, "MINUSMA", 2016, 6, "Kidal", "123", "1.4", "500"),  # impossible latitude: rejected
        v1_row(9, "MINUSMA", 2016, 13, "Kidal", "18.4", "1.4", "500"),  # month 13: rejected
    ]
    lines = [line.encode("utf-8") for line in utf8]
    lines.append(v1_row(10, "MINUSMA", 2016, 6, "Ménaka", "15.91", "2.41", "650").encode("cp1252"))
    lines.append(
        v1_row(
            11, "MINUSMA", 2016, 6, "Ansongo", "15.66", "0.50", "~300", comment='"first line\r\r\nsecond"'
        ).encode("utf-8")
    )
    return b"\r\n".join(lines) + b"\r\n"


FRONT_HEADER = (
    "mission,year,country,location,latitude,longitude,Infantry,NoTroops,Reserve,hq,UNPOL,Med,Av,UNMO,"
    "ave.no.troops"
)
FRONT_ROWS = [
    "MINUSMA,2016,Mali,Gao,16.30,0.01,900,3000,0,2,0,1,1,0,3333.4",
    "MINUSMA,2016,Mali,Gao,16.30,0.01,900,4000,0,3,0,1,1,0,3333.4",
    "MINUSMA,2016,Mali,Kidal,18.44,1.41,0,NA,0,0,1,0,0,0,NA",
    "UNIFIL,2016,Lebanon,Naqoura,33.11,35.14,600,1000,0,3,0,1,0,0,1000",
]
TT_HEADER = "mission,year,location,latitude,longitude,Infantry,eng,med,sig,av,riv,maint,trans"
TT_ROWS = ["MINUSMA,2017,Gao,16.30,0.01,1000,5,4,3,2,0,1,0"]
TCC_HEADER = "mission,year,location,latitude,longitude,No.TCC,year.overview"
TCC_ROWS = ['MINUSMA,2017,Gao,16.30,0.01,2,"Chad (650), Niger (size unknown)"']
V2MAP_HEADER = "source,mission,year,month,date,location,country,iso3c,latitude,longitude,no.troops,no.tcc,hq"
V2MAP_ROWS = [
    "Map 1,MINUSMA,2020,2,2020-02-01,Gao,Mali,MLI,16.29,0.02,5000,7,2",
    "Map 1,MINUSMA,2020,2,2020-02-01,Menaka,Mali,MLI,15.90,2.40,100-200,1,0",
]

RADPKO_M_HEADER = (
    "mission,country,base,longitude,latitude,gid,date,pko_deployed,untrp,unpol,unmob,f_pko,f_untrp,f_unpol,"
    "f_unmob,cc"
)
RADPKO_M_ROWS = [
    "MINUSMA,Mali,Gao,0.01,16.29,148000,2016-02-01,1500,1400,80,20,60,50,8,2,Niger|Chad",
    "MINUSMA,Mali,Gao,0.01,16.29,148000,2016-03-01,1520,1410,90,20,60,50,8,2,Niger|Chad",
    "MINUSMA,Mali,Tombouctou,NA,NA,NA,2016-02-01,700,650,40,10,20,18,2,0,Burkina Faso",
    "MINUSMA,Mali,Nowhere,NA,NA,NA,2016-02-01,10,10,0,0,0,0,0,0,0",
    "UNMISS,South Sudan,Juba,31.58,4.85,150000,2016-02-01,4000,NA,300,50,200,150,40,10,Rwanda",
    "MINUSMA,Mali,Gao,0.01,16.29,148000,2016-02-30,1,1,0,0,0,0,0,0,Niger",
]
RADPKO_Y_HEADER = "mission,country,base,longitude,latitude,date,year,pko_deployed,untrp,unpol,unmob,cc"
RADPKO_Y_ROWS = [
    "MINUSMA,Mali,Gao,0.01,16.29,2016-01-01,2016,1510.5,1405.6,85,20,Chad|Niger",
    "MINUSMA,Mali,Gao,0.01,16.29,2017-01-01,2017,1600,1500.4,85,20,Chad|Niger",
]


def write(path, header: str, rows: list[str]) -> str:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)
