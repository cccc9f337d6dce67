"""The catalog as DCAT-AP: an RDF graph (rdflib) serialised as JSON-LD with its @context inlined
(nothing is fetched at run time), and the same entries as CSV.

The public export lists 无条件开放 and 受限开放 datasets; 禁止开放 datasets appear only in the
internal export, for signed-in staff and API clients (the catalog is shared inside government).
The properties used are listed in docs/governance.md.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.identity.models import Department
from tongban.datahub.models import Dataset

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
ACCESS_RIGHTS = {"open": "PUBLIC", "restricted": "RESTRICTED", "closed": "NON_PUBLIC"}
FREQUENCY = {"realtime": "CONT", "daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY", "yearly": "ANNUAL"}
FORMATS = {"csv": ("CSV", "text/csv"), "parquet": ("PARQUET", "application/vnd.apache.parquet"),
           "json": ("JSON", "application/json")}

# Inlined so a reader needs nothing from the network.
CONTEXT: dict[str, Any] = {
    "dcat": str(DCAT), "dct": str(DCTERMS), "foaf": str(FOAF), "vcard": str(VCARD), "xsd": str(XSD),
    "rdf": str(RDF),
}


@dataclass(frozen=True)
class Distribution:
    format: str  # csv | parquet | json
    access_url: str
    download_url: str | None


def distributions(ds: Dataset, base: str, *, public: bool) -> list[Distribution]:
    """How a dataset can be had: open downloads, download after an approved application, or the exchange."""
    out: list[Distribution] = []
    if ds.table_name is not None and ds.opening_type == "open":
        for fmt in ("csv", "parquet"):
            out.append(Distribution(fmt, f"{base}/open", f"{base}/open/datasets/{ds.id}.{fmt}"))
    elif ds.table_name is not None and ds.opening_type == "restricted":
        for fmt in ("csv", "parquet"):
            out.append(Distribution(fmt, f"{base}/open#{ds.id}", None))
    if not public and ds.sharing_type != "none" and (ds.table_name or ds.parquet_path):
        out.append(Distribution("json", f"{base}/api/v1/exchange/{ds.id}/query", None))
    return out


def datasets_for(session: Session, *, public: bool) -> list[Dataset]:
    q = select(Dataset).order_by(Dataset.id)
    if public:
        q = q.where(Dataset.opening_type.in_(("open", "restricted")))
    return list(session.scalars(q))


def dataset_uri(base: str, dataset_id: str) -> URIRef:
    return URIRef(f"{base}/catalog/datasets/{dataset_id}")


def graph(session: Session, *, base: str, public: bool) -> Graph:
    """The catalog as a DCAT-AP graph."""
    base = base.rstrip("/")
    g = Graph()
    for prefix, ns in CONTEXT.items():
        g.bind(prefix, Namespace(ns))
    departments = {d.id: d for d in session.scalars(select(Department))}
    catalog = URIRef(f"{base}/catalog" + ("" if public else "#internal"))
    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, DCTERMS.title, Literal("数据资源目录", lang="zh")))
    g.add((catalog, DCTERMS.title, Literal("Data catalog" + ("" if public else " (internal)"), lang="en")))
    for ds in datasets_for(session, public=public):
        node = dataset_uri(base, ds.id)
        g.add((catalog, DCAT.dataset, node))
        g.add((node, RDF.type, DCAT.Dataset))
        g.add((node, DCTERMS.identifier, Literal(ds.id)))
        g.add((node, DCTERMS.title, Literal(ds.title_zh, lang="zh")))
        g.add((node, DCTERMS.title, Literal(ds.title_en, lang="en")))
        if ds.description_zh:
            g.add((node, DCTERMS.description, Literal(ds.description_zh, lang="zh")))
        if ds.description_en:
            g.add((node, DCTERMS.description, Literal(ds.description_en, lang="en")))
        dept = departments.get(ds.owner_department_id)
        publisher = URIRef(f"{base}/departments/{ds.owner_department_id}")
        g.add((node, DCTERMS.publisher, publisher))
        g.add((publisher, RDF.type, FOAF.Agent))
        contact = BNode(f"contact-{ds.id}")
        g.add((node, DCAT.contactPoint, contact))
        g.add((contact, RDF.type, VCARD.Organization))
        if dept is not None:
            g.add((publisher, FOAF.name, Literal(dept.name_zh, lang="zh")))
            g.add((publisher, FOAF.name, Literal(dept.name_en, lang="en")))
            g.add((contact, VCARD.fn, Literal(dept.name_zh, lang="zh")))
        for word in keywords(ds):
            g.add((node, DCAT.keyword, Literal(word, lang="zh")))
        g.add((node, DCAT.theme, URIRef(f"{EU}data-theme/{ds.theme or 'GOVE'}")))
        g.add((node, DCTERMS.accessRights, URIRef(f"{EU}access-right/{ACCESS_RIGHTS[ds.opening_type]}")))
        g.add((node, DCTERMS.accrualPeriodicity, URIRef(f"{EU}frequency/{FREQUENCY[ds.update_frequency]}")))
        g.add((node, DCTERMS.modified, Literal(ds.updated_at.isoformat(), datatype=XSD.dateTime)))
        for d in distributions(ds, base, public=public):
            dist = URIRef(f"{node}/distribution/{d.format}")
            code, media = FORMATS[d.format]
            g.add((node, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCAT.accessURL, URIRef(d.access_url)))
            if d.download_url:
                g.add((dist, DCAT.downloadURL, URIRef(d.download_url)))
            g.add((dist, DCTERMS.format, URIRef(f"{EU}file-type/{code}")))
            g.add((dist, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{media}")))
    return g


def keywords(ds: Dataset) -> list[str]:
    from tongban.datahub.cli import OPENING_ZH, SHARING_ZH

    words = [SHARING_ZH[ds.sharing_type], OPENING_ZH[ds.opening_type]]
    if ds.source_system:
        words.append(ds.source_system)
    return words


def jsonld(session: Session, *, base: str, public: bool) -> str:
    return graph(session, base=base, public=public).serialize(format="json-ld", context=CONTEXT, indent=2)


CSV_COLUMNS = ("identifier", "title_zh", "title_en", "description_zh", "publisher", "keywords", "theme",
               "access_rights", "accrual_periodicity", "modified", "formats", "access_urls", "download_urls")


def csv_text(session: Session, *, base: str, public: bool) -> str:
    base = base.rstrip("/")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for ds in datasets_for(session, public=public):
        dists = distributions(ds, base, public=public)
        w.writerow([ds.id, ds.title_zh, ds.title_en, ds.description_zh, ds.owner_department_id,
                    ";".join(keywords(ds)), ds.theme or "GOVE", ACCESS_RIGHTS[ds.opening_type],
                    FREQUENCY[ds.update_frequency], ds.updated_at.isoformat(),
                    ";".join(FORMATS[d.format][1] for d in dists),
                    ";".join(dict.fromkeys(d.access_url for d in dists)),
                    ";".join(d.download_url for d in dists if d.download_url)])
    return buf.getvalue()
