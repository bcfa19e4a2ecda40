#!/usr/bin/env python3
"""Audit many WARC files for affiliate-disclosure compliance with Spark: one task per file.

Each WARC file becomes one partition, and each task pipes that file through
`affcheck warc` (which streams it record by record, so a 1 GB Common Crawl file needs a few
tens of MB per task). Sharding by file keeps tasks independent: a failed or slow task is retried
or speculated on its own, and no task needs another's output. The per-file CSV reports come back
to the driver, which writes ONE merged CSV with the header once.

Usage (local):

    pip install pyspark==3.5.9                      # Java 17 (or 8/11) must be installed
    cargo build --release
    python3 examples/spark/audit_warcs.py --master 'local[*]' \
        --affcheck target/release/affcheck --output report.csv a.warc.gz b.warc.gz
    python3 examples/spark/audit_warcs.py --paths-file warc.paths --output report.csv

Inputs: local paths (or file://), http(s):// URLs (streamed into `affcheck warc -`, never stored
on disk), and s3:// URLs. s3://commoncrawl/… is read over HTTPS from https://data.commoncrawl.org/
(no credentials needed); other buckets need boto3 on the workers.

Common Crawl: every crawl publishes its list of WARC files as
s3://commoncrawl/crawl-data/CC-MAIN-YYYY-WW/warc.paths.gz (also at
https://data.commoncrawl.org/crawl-data/CC-MAIN-YYYY-WW/warc.paths.gz). Download it and pass it
with a prefix; take a slice first, a crawl has ~90,000 files of ~1 GB:

    curl -sO https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-10/warc.paths.gz
    zcat warc.paths.gz | head -100 > warc.paths
    python3 examples/spark/audit_warcs.py --paths-file warc.paths \
        --prefix https://data.commoncrawl.org/ --output cc-report.csv
    # or, on AWS in us-east-1 with the s3a connector: --prefix s3://commoncrawl/

(The script reads the paths itself and hands each task its URL; with --prefix s3://commoncrawl/
the tasks fetch over HTTPS, so the Hadoop s3a connector is not needed. To read the files through
Spark's own filesystem layer instead — s3a://commoncrawl/… with hadoop-aws on the classpath —
copy them to a local disk of the worker first, e.g. with `hadoop fs -get` in a wrapper script
given as --affcheck.)

On a cluster: submit with spark-submit and a master (--master yarn, or
spark://host:7077). The affcheck binary must run on every worker: build a static one
(cargo build --release --target x86_64-unknown-linux-musl) and ship it with the job
(spark-submit --files /path/to/affcheck … --affcheck ./affcheck; it lands in each executor's
working directory), or install it on the workers and give its path:

    spark-submit --master yarn --files target/x86_64-unknown-linux-musl/release/affcheck \
        examples/spark/audit_warcs.py --affcheck ./affcheck \
        --paths-file warc.paths --prefix https://data.commoncrawl.org/ --output report.csv

Output: by default the driver pulls one partition at a time (RDD.toLocalIterator) and streams the
rows into --output, so the driver holds one file's rows at a time however large the job (the
single merged file is written on the driver's disk). For small jobs, --collect gathers all rows in
one go (faster, but the whole report must fit in the driver's memory). To keep the report on
cluster storage instead, replace the writing step with
`rows.map(to_csv_line).coalesce(1).saveAsTextFile("s3a://bucket/report")` and prepend the header.

Exit status of affcheck per file: 0 (clean) and 1 (findings) are both success; 2 means some
records or the file could not be read: that file's rows are kept, its errors are printed on the
executor's standard error, and the driver lists such files at the end (--strict makes the task
fail instead, so Spark retries it).
"""

import argparse
import csv
import gzip
import io
import os
import shlex
import shutil
import subprocess
import sys
import threading
import urllib.request

HEADER_TAG = "H"
ROW_TAG = "R"
ERROR_TAG = "E"


def read_paths(args):
    paths = list(args.paths)
    if args.paths_file:
        opener = gzip.open if args.paths_file.endswith(".gz") else open
        with opener(args.paths_file, "rt", encoding="utf-8") as handle:
            paths.extend(line.strip() for line in handle if line.strip() and not line.startswith("#"))
    if args.prefix:
        paths = [p if "://" in p or os.path.isabs(p) else args.prefix + p for p in paths]
    return paths


def open_remote(path):
    """A readable binary stream for an http(s):// or s3:// path."""
    if path.startswith("s3://commoncrawl/"):
        path = "https://data.commoncrawl.org/" + path[len("s3://commoncrawl/"):]
    if path.startswith(("http://", "https://")):
        request = urllib.request.Request(path, headers={"User-Agent": "affcheck-spark-example"})
        return urllib.request.urlopen(request, timeout=120)
    if path.startswith(("s3://", "s3a://")):
        import boto3  # only needed for buckets other than commoncrawl

        bucket, _, key = path.split("://", 1)[1].partition("/")
        return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    raise ValueError(f"unsupported path {path!r}")


def audit_partition(paths, affcheck, extra_args, strict):
    """Runs affcheck on each path of the partition; yields (tag, value) pairs."""
    for path in paths:
        local = path[len("file://"):] if path.startswith("file://") else path
        remote = "://" in local
        command = [affcheck, "warc", "-" if remote else local, "--quiet"] + extra_args
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE if remote else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        feeder = None
        if remote:
            def feed(proc=proc, path=path):
                try:
                    with open_remote(path) as source:
                        shutil.copyfileobj(source, proc.stdin, 1 << 20)
                except Exception as exc:  # reported through affcheck's own exit status too
                    sys.stderr.write(f"audit_warcs: {path}: cannot read: {exc}\n")
                finally:
                    try:
                        proc.stdin.close()
                    except OSError:
                        pass

            feeder = threading.Thread(target=feed, daemon=True)
            feeder.start()
        errors = []
        drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
        drain.start()
        reader = csv.reader(io.TextIOWrapper(proc.stdout, encoding="utf-8", newline=""))
        header = next(reader, None)
        if header is not None:
            yield HEADER_TAG, header
        for row in reader:
            yield ROW_TAG, row
        code = proc.wait()
        drain.join()
        if feeder is not None:
            feeder.join()
        stderr = b"".join(errors).decode("utf-8", "replace")
        if stderr:
            sys.stderr.write(stderr)
        if code not in (0, 1):
            if strict:
                raise RuntimeError(f"affcheck exited with {code} on {path}: {stderr.strip()}")
            yield ERROR_TAG, [path, str(code), stderr.strip().splitlines()[-1] if stderr.strip() else ""]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Audit WARC files with affcheck on Spark, one task per file; writes one merged CSV.",
    )
    parser.add_argument("paths", nargs="*", help="WARC files or URLs (http(s)://, s3://)")
    parser.add_argument("--paths-file", help="file with one WARC path per line (plain or .gz, as Common Crawl's warc.paths.gz)")
    parser.add_argument("--prefix", help="prepended to relative paths (https://data.commoncrawl.org/ or s3://commoncrawl/)")
    parser.add_argument("--affcheck", default="affcheck", help="the affcheck binary on the workers (default: affcheck on PATH)")
    parser.add_argument("--affcheck-args", default="", help="more options for `affcheck warc`, e.g. '--notices --fail-on never'")
    parser.add_argument("--master", help="Spark master (local[*], yarn, spark://host:7077); default: spark-submit's or local[*]")
    parser.add_argument("--output", required=True, help="the merged CSV report, written by the driver")
    parser.add_argument("--collect", action="store_true", help="collect all rows at once (small jobs) instead of streaming partition by partition")
    parser.add_argument("--strict", action="store_true", help="fail a task (Spark retries it) when affcheck exits with 2")
    args = parser.parse_args(argv)

    paths = read_paths(args)
    if not paths:
        parser.error("no WARC paths: give them as arguments or with --paths-file")

    from pyspark import SparkConf, SparkContext

    conf = SparkConf().setAppName("affcheck-audit-warcs")
    if args.master:
        conf = conf.setMaster(args.master)
    elif not conf.contains("spark.master"):
        conf = conf.setMaster("local[*]")
    sc = SparkContext.getOrCreate(conf)
    sc.setLogLevel("WARN")
    affcheck = args.affcheck
    if os.path.exists(affcheck) and os.sep in affcheck:
        affcheck = os.path.abspath(affcheck)
    extra = shlex.split(args.affcheck_args)
    strict = args.strict
    try:
        tagged = sc.parallelize(paths, numSlices=len(paths)).mapPartitions(
            lambda part: audit_partition(part, affcheck, extra, strict)
        )
        items = tagged.collect() if args.collect else tagged.toLocalIterator()
        rows = 0
        failed = []
        header_written = False
        with open(args.output, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            for tag, value in items:
                if tag == HEADER_TAG:
                    if not header_written:
                        writer.writerow(value)
                        header_written = True
                elif tag == ROW_TAG:
                    writer.writerow(value)
                    rows += 1
                else:
                    failed.append(value)
    finally:
        sc.stop()
    print(f"audit_warcs: {len(paths)} WARC files, {rows} rows written to {args.output}", file=sys.stderr)
    for path, code, message in failed:
        print(f"audit_warcs: {path}: affcheck exited with {code}: {message}", file=sys.stderr)
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
